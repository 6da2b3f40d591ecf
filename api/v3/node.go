package v3

import (
	"encoding/base64"
	"net"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// KindNode is the Node kind.
const KindNode = "Node"

// Node address types (NodeAddress.Type).
const (
	CalicoNodeIP = "CalicoNodeIP"
	InternalIP   = "InternalIP"
	ExternalIP   = "ExternalIP"
)

// Node is one host running calico-node: its BGP identity, tunnel addresses
// and the keys other nodes need. calico-node writes it at startup; users
// edit the BGP section (AS number, route reflector cluster ID).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type Node struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NodeSpec   `json:"spec,omitempty"`
	Status NodeStatus `json:"status,omitempty"`
}

// NodeSpec is the node's networking identity.
type NodeSpec struct {
	// BGP is the node's BGP identity; unset when BGP is not used.
	BGP *NodeBGPSpec `json:"bgp,omitempty"`
	// IPv4VXLANTunnelAddr is the address of the node's IPv4 VXLAN device.
	IPv4VXLANTunnelAddr string `json:"ipv4VXLANTunnelAddr,omitempty"`
	// VXLANTunnelMACAddr is the MAC of the node's IPv4 VXLAN device.
	VXLANTunnelMACAddr string `json:"vxlanTunnelMACAddr,omitempty"`
	// IPv6VXLANTunnelAddr is the address of the node's IPv6 VXLAN device.
	IPv6VXLANTunnelAddr string `json:"ipv6VXLANTunnelAddr,omitempty"`
	// VXLANTunnelMACAddrV6 is the MAC of the node's IPv6 VXLAN device.
	VXLANTunnelMACAddrV6 string `json:"vxlanTunnelMACAddrV6,omitempty"`
	// OrchRefs link the node to its name in orchestrators (e.g. Kubernetes).
	OrchRefs []OrchRef `json:"orchRefs,omitempty"`
	// Wireguard holds the node's WireGuard interface addresses.
	Wireguard *NodeWireguardSpec `json:"wireguard,omitempty"`
	// Addresses are the addresses the node can be reached at.
	Addresses []NodeAddress `json:"addresses,omitempty"`
	// Interfaces are the node's interfaces and their addresses.
	Interfaces []NodeInterface `json:"interfaces,omitempty"`
}

// NodeAddress is one address of the node.
type NodeAddress struct {
	// Address is an IP or CIDR.
	Address string `json:"address"`
	// Type is CalicoNodeIP, InternalIP or ExternalIP.
	Type string `json:"type,omitempty"`
}

// NodeInterface is one network interface of the node.
type NodeInterface struct {
	// Name is the interface name.
	Name string `json:"name,omitempty"`
	// Addresses are the interface's IPs.
	Addresses []string `json:"addresses,omitempty"`
}

// NodeStatus is what calico-node reports about itself.
type NodeStatus struct {
	// WireguardPublicKey is the node's IPv4 WireGuard public key (base64).
	WireguardPublicKey string `json:"wireguardPublicKey,omitempty"`
	// WireguardPublicKeyV6 is the node's IPv6 WireGuard public key (base64).
	WireguardPublicKeyV6 string `json:"wireguardPublicKeyV6,omitempty"`
	// PodCIDRs mirrors the Kubernetes node's spec.podCIDRs.
	PodCIDRs []string `json:"podCIDRs,omitempty"`
}

// OrchRef ties the node to its name in one orchestrator.
type OrchRef struct {
	// NodeName is the node's name in the orchestrator.
	NodeName string `json:"nodeName,omitempty"`
	// Orchestrator names the orchestrator, e.g. "k8s".
	Orchestrator string `json:"orchestrator"`
}

// NodeBGPSpec is the node's BGP identity.
type NodeBGPSpec struct {
	// ASNumber overrides the cluster default AS number for this node.
	ASNumber *numorstring.ASNumber `json:"asNumber,omitempty"`
	// IPv4Address is the node's IPv4 address with its subnet length,
	// e.g. 198.18.0.2/24 (host bits are the point).
	IPv4Address string `json:"ipv4Address,omitempty"`
	// IPv6Address is the node's IPv6 address with its subnet length.
	IPv6Address string `json:"ipv6Address,omitempty"`
	// IPv4IPIPTunnelAddr is the address of the node's tunl0 device.
	IPv4IPIPTunnelAddr string `json:"ipv4IPIPTunnelAddr,omitempty"`
	// RouteReflectorClusterID makes the node a route reflector in that
	// cluster (written as an IPv4 address).
	RouteReflectorClusterID string `json:"routeReflectorClusterID,omitempty"`
}

// NodeWireguardSpec holds the node's WireGuard interface addresses.
type NodeWireguardSpec struct {
	// InterfaceIPv4Address is the IPv4 address of wireguard.cali.
	InterfaceIPv4Address string `json:"interfaceIPv4Address,omitempty"`
	// InterfaceIPv6Address is the IPv6 address of wireguard.cali.v6.
	InterfaceIPv6Address string `json:"interfaceIPv6Address,omitempty"`
}

// NodeList is a list of Nodes.
//
// +kubebuilder:object:root=true
type NodeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Node `json:"items"`
}

// NewNode returns an empty Node with its TypeMeta set.
func NewNode() *Node { return &Node{TypeMeta: typeMeta(KindNode)} }

// NewNodeList returns an empty NodeList with its TypeMeta set.
func NewNodeList() *NodeList { return &NodeList{TypeMeta: typeMeta(KindNode + "List")} }

// Default does nothing: calico-node fills its Node at startup (addresses,
// tunnel addresses); the AS number falls back to BGPConfiguration at run time.
func (n *Node) Default() {}

// Validate checks the name (a DNS-1123 subdomain, as host names are) and
// every address: BGP addresses as address/prefix with host bits, tunnel
// addresses as plain IPs of the right family, MACs, WireGuard keys.
func (n *Node) Validate() error {
	v := newValidator(KindNode, &n.ObjectMeta)
	v.name(&n.ObjectMeta, false)
	s := &n.Spec
	if b := s.BGP; b != nil {
		if b.IPv4Address != "" {
			v.ifaceAddr("spec.bgp.ipv4Address", b.IPv4Address, ipv4Only)
		}
		if b.IPv6Address != "" {
			v.ifaceAddr("spec.bgp.ipv6Address", b.IPv6Address, ipv6Only)
		}
		if b.IPv4IPIPTunnelAddr != "" {
			v.ip("spec.bgp.ipv4IPIPTunnelAddr", b.IPv4IPIPTunnelAddr, ipv4Only)
		}
		if b.RouteReflectorClusterID != "" {
			v.ip("spec.bgp.routeReflectorClusterID", b.RouteReflectorClusterID, ipv4Only)
		}
	}
	if s.IPv4VXLANTunnelAddr != "" {
		v.ip("spec.ipv4VXLANTunnelAddr", s.IPv4VXLANTunnelAddr, ipv4Only)
	}
	if s.IPv6VXLANTunnelAddr != "" {
		v.ip("spec.ipv6VXLANTunnelAddr", s.IPv6VXLANTunnelAddr, ipv6Only)
	}
	v.mac("spec.vxlanTunnelMACAddr", s.VXLANTunnelMACAddr)
	v.mac("spec.vxlanTunnelMACAddrV6", s.VXLANTunnelMACAddrV6)
	if w := s.Wireguard; w != nil {
		if w.InterfaceIPv4Address != "" {
			v.ip("spec.wireguard.interfaceIPv4Address", w.InterfaceIPv4Address, ipv4Only)
		}
		if w.InterfaceIPv6Address != "" {
			v.ip("spec.wireguard.interfaceIPv6Address", w.InterfaceIPv6Address, ipv6Only)
		}
	}
	for i, a := range s.Addresses {
		f := indexed("spec.addresses", i)
		if a.Address == "" {
			v.addf(f+".address", "is required; set an IP or CIDR")
		} else if strings.Contains(a.Address, "/") {
			v.ifaceAddr(f+".address", a.Address, anyFamily)
		} else {
			v.ip(f+".address", a.Address, anyFamily)
		}
		v.oneOf(f+".type", a.Type, CalicoNodeIP, InternalIP, ExternalIP)
	}
	for i, itf := range s.Interfaces {
		f := indexed("spec.interfaces", i)
		v.ifaceName(f+".name", itf.Name)
		for j, a := range itf.Addresses {
			if strings.Contains(a, "/") {
				v.ifaceAddr(indexed(f+".addresses", j), a, anyFamily)
			} else {
				v.ip(indexed(f+".addresses", j), a, anyFamily)
			}
		}
	}
	for i, r := range s.OrchRefs {
		if r.Orchestrator == "" {
			v.addf(indexed("spec.orchRefs", i)+".orchestrator", "is required; name the orchestrator, e.g. k8s")
		}
	}
	v.wireguardKey("status.wireguardPublicKey", n.Status.WireguardPublicKey)
	v.wireguardKey("status.wireguardPublicKeyV6", n.Status.WireguardPublicKeyV6)
	for i, c := range n.Status.PodCIDRs {
		v.cidr(indexed("status.podCIDRs", i), c)
	}
	return v.result()
}

// ifaceAddr accepts "address/prefix" with host bits, or a bare address.
func (v *validator) ifaceAddr(field, s string, fam ipFamily) {
	if !strings.Contains(s, "/") {
		v.ip(field, s, fam)
		return
	}
	v.addrWithPrefix(field, s, fam)
}

// mac checks an optional MAC address.
func (v *validator) mac(field, s string) {
	if s == "" {
		return
	}
	if hw, err := net.ParseMAC(s); err != nil || len(hw) != 6 {
		v.addf(field, "%q is not a valid MAC address; write six hex pairs such as 66:12:3a:bc:de:f0", s)
	}
}

// wireguardKey checks an optional WireGuard key: base64 of 32 bytes.
func (v *validator) wireguardKey(field, s string) {
	if s == "" {
		return
	}
	if b, err := base64.StdEncoding.DecodeString(s); err != nil || len(b) != 32 {
		v.addf(field, "%q is not a WireGuard key; it must be 32 bytes in base64 (44 characters, as wg genkey prints)", s)
	}
}
