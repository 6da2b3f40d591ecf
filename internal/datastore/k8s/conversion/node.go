package conversion

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Annotations on a Kubernetes Node that hold the Calico Node's fields, with
// Calico's names (calico-node writes them; everything reading the Calico
// Node reads them back).
const (
	AnnotationNodeIPv4Address             = "projectcalico.org/IPv4Address"
	AnnotationNodeIPv6Address             = "projectcalico.org/IPv6Address"
	AnnotationNodeASNumber                = "projectcalico.org/ASNumber"
	AnnotationNodeRouteReflectorClusterID = "projectcalico.org/RouteReflectorClusterID"
	AnnotationNodeIPv4IPIPTunnelAddr      = "projectcalico.org/IPv4IPIPTunnelAddr"
	AnnotationNodeIPv4VXLANTunnelAddr     = "projectcalico.org/IPv4VXLANTunnelAddr"
	AnnotationNodeVXLANTunnelMACAddr      = "projectcalico.org/VXLANTunnelMACAddr"
	AnnotationNodeIPv6VXLANTunnelAddr     = "projectcalico.org/IPv6VXLANTunnelAddr"
	AnnotationNodeVXLANTunnelMACAddrV6    = "projectcalico.org/VXLANTunnelMACAddrV6"
	AnnotationNodeWireguardIPv4Addr       = "projectcalico.org/IPv4WireguardInterfaceAddr"
	AnnotationNodeWireguardIPv6Addr       = "projectcalico.org/IPv6WireguardInterfaceAddr"
	AnnotationNodeWireguardPublicKey      = "projectcalico.org/WireguardPublicKey"
	AnnotationNodeWireguardPublicKeyV6    = "projectcalico.org/WireguardPublicKeyV6"
)

// nodeField ties one annotation to the Calico Node field it stores.
type nodeField struct {
	annotation string
	get        func(n *v3.Node) string
	set        func(n *v3.Node, v string)
}

func nodeBGP(n *v3.Node) *v3.NodeBGPSpec {
	if n.Spec.BGP == nil {
		n.Spec.BGP = &v3.NodeBGPSpec{}
	}
	return n.Spec.BGP
}

func nodeWireguard(n *v3.Node) *v3.NodeWireguardSpec {
	if n.Spec.Wireguard == nil {
		n.Spec.Wireguard = &v3.NodeWireguardSpec{}
	}
	return n.Spec.Wireguard
}

// bgpField reads a BGP string field, "" when the node has no BGP spec.
func bgpField(f func(b *v3.NodeBGPSpec) string) func(n *v3.Node) string {
	return func(n *v3.Node) string {
		if n.Spec.BGP == nil {
			return ""
		}
		return f(n.Spec.BGP)
	}
}

// wgField reads a WireGuard string field, "" when the node has none.
func wgField(f func(w *v3.NodeWireguardSpec) string) func(n *v3.Node) string {
	return func(n *v3.Node) string {
		if n.Spec.Wireguard == nil {
			return ""
		}
		return f(n.Spec.Wireguard)
	}
}

// nodeStringFields are the annotation-backed string fields (the AS number,
// which needs parsing, is handled apart).
var nodeStringFields = []nodeField{
	{AnnotationNodeIPv4Address, bgpField(func(b *v3.NodeBGPSpec) string { return b.IPv4Address }),
		func(n *v3.Node, v string) { nodeBGP(n).IPv4Address = v }},
	{AnnotationNodeIPv6Address, bgpField(func(b *v3.NodeBGPSpec) string { return b.IPv6Address }),
		func(n *v3.Node, v string) { nodeBGP(n).IPv6Address = v }},
	{AnnotationNodeIPv4IPIPTunnelAddr, bgpField(func(b *v3.NodeBGPSpec) string { return b.IPv4IPIPTunnelAddr }),
		func(n *v3.Node, v string) { nodeBGP(n).IPv4IPIPTunnelAddr = v }},
	{AnnotationNodeRouteReflectorClusterID, bgpField(func(b *v3.NodeBGPSpec) string { return b.RouteReflectorClusterID }),
		func(n *v3.Node, v string) { nodeBGP(n).RouteReflectorClusterID = v }},
	{AnnotationNodeIPv4VXLANTunnelAddr, func(n *v3.Node) string { return n.Spec.IPv4VXLANTunnelAddr },
		func(n *v3.Node, v string) { n.Spec.IPv4VXLANTunnelAddr = v }},
	{AnnotationNodeVXLANTunnelMACAddr, func(n *v3.Node) string { return n.Spec.VXLANTunnelMACAddr },
		func(n *v3.Node, v string) { n.Spec.VXLANTunnelMACAddr = v }},
	{AnnotationNodeIPv6VXLANTunnelAddr, func(n *v3.Node) string { return n.Spec.IPv6VXLANTunnelAddr },
		func(n *v3.Node, v string) { n.Spec.IPv6VXLANTunnelAddr = v }},
	{AnnotationNodeVXLANTunnelMACAddrV6, func(n *v3.Node) string { return n.Spec.VXLANTunnelMACAddrV6 },
		func(n *v3.Node, v string) { n.Spec.VXLANTunnelMACAddrV6 = v }},
	{AnnotationNodeWireguardIPv4Addr, wgField(func(w *v3.NodeWireguardSpec) string { return w.InterfaceIPv4Address }),
		func(n *v3.Node, v string) { nodeWireguard(n).InterfaceIPv4Address = v }},
	{AnnotationNodeWireguardIPv6Addr, wgField(func(w *v3.NodeWireguardSpec) string { return w.InterfaceIPv6Address }),
		func(n *v3.Node, v string) { nodeWireguard(n).InterfaceIPv6Address = v }},
	{AnnotationNodeWireguardPublicKey, func(n *v3.Node) string { return n.Status.WireguardPublicKey },
		func(n *v3.Node, v string) { n.Status.WireguardPublicKey = v }},
	{AnnotationNodeWireguardPublicKeyV6, func(n *v3.Node) string { return n.Status.WireguardPublicKeyV6 },
		func(n *v3.Node, v string) { n.Status.WireguardPublicKeyV6 = v }},
}

// K8sNodeToCalico is the Calico Node of a Kubernetes Node, as Calico's
// Kubernetes datastore shows it:
//
//   - name, uid, creationTimestamp, resourceVersion and labels of the
//     Kubernetes Node;
//   - spec.bgp, tunnel addresses, VXLAN MACs, WireGuard addresses and
//     status.wireguardPublicKey from the projectcalico.org/* annotations
//     (AnnotationNode*);
//   - spec.addresses: the BGP addresses (type CalicoNodeIP, with their
//     prefix) then the Node's InternalIP and ExternalIP status addresses;
//   - spec.orchRefs: [{nodeName: <name>, orchestrator: k8s}];
//   - status.podCIDRs: spec.podCIDRs (spec.podCIDR when the list is empty).
//
// A malformed AS number annotation is an error naming it.
func K8sNodeToCalico(kn *corev1.Node) (*v3.Node, error) {
	n := v3.NewNode()
	n.ObjectMeta = metav1.ObjectMeta{
		Name:              kn.Name,
		UID:               kn.UID,
		CreationTimestamp: kn.CreationTimestamp,
		ResourceVersion:   kn.ResourceVersion,
	}
	if len(kn.Labels) > 0 {
		n.Labels = make(map[string]string, len(kn.Labels))
		for k, v := range kn.Labels {
			n.Labels[k] = v
		}
	}
	for _, f := range nodeStringFields {
		if v := kn.Annotations[f.annotation]; v != "" {
			f.set(n, v)
		}
	}
	if s := kn.Annotations[AnnotationNodeASNumber]; s != "" {
		asn, err := numorstring.ParseASNumber(s)
		if err != nil {
			return nil, fmt.Errorf("kubernetes node %s: annotation %s=%q: %v", kn.Name, AnnotationNodeASNumber, s, err)
		}
		nodeBGP(n).ASNumber = &asn
	}
	if b := n.Spec.BGP; b != nil {
		for _, a := range []string{b.IPv4Address, b.IPv6Address} {
			if a != "" {
				n.Spec.Addresses = append(n.Spec.Addresses, v3.NodeAddress{Address: a, Type: v3.CalicoNodeIP})
			}
		}
	}
	for _, a := range kn.Status.Addresses {
		switch a.Type {
		case corev1.NodeInternalIP:
			n.Spec.Addresses = append(n.Spec.Addresses, v3.NodeAddress{Address: a.Address, Type: v3.InternalIP})
		case corev1.NodeExternalIP:
			n.Spec.Addresses = append(n.Spec.Addresses, v3.NodeAddress{Address: a.Address, Type: v3.ExternalIP})
		}
	}
	n.Spec.OrchRefs = []v3.OrchRef{{NodeName: kn.Name, Orchestrator: OrchestratorK8s}}
	switch {
	case len(kn.Spec.PodCIDRs) > 0:
		n.Status.PodCIDRs = append([]string(nil), kn.Spec.PodCIDRs...)
	case kn.Spec.PodCIDR != "":
		n.Status.PodCIDRs = []string{kn.Spec.PodCIDR}
	}
	return n, nil
}

// MergeCalicoNodeIntoK8s writes what a Calico Node stores onto a copy of
// its Kubernetes Node, as Calico's Kubernetes datastore does on a Node
// update: the annotation-backed fields (set when non-empty, removed when
// empty) and the labels (the Calico Node's labels replace the Kubernetes
// Node's). Everything else of the Kubernetes Node (spec, status, other
// annotations) is kept; the Calico Node's derived fields (spec.addresses,
// spec.orchRefs, status.podCIDRs) are not written back. The Calico Node
// must name the Kubernetes Node.
func MergeCalicoNodeIntoK8s(n *v3.Node, kn *corev1.Node) (*corev1.Node, error) {
	if n.Name != kn.Name {
		return nil, fmt.Errorf("node %s: cannot be written onto kubernetes node %s", n.Name, kn.Name)
	}
	out := kn.DeepCopy()
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	for _, f := range nodeStringFields {
		setOrDelete(out.Annotations, f.annotation, f.get(n))
	}
	asn := ""
	if n.Spec.BGP != nil && n.Spec.BGP.ASNumber != nil {
		asn = n.Spec.BGP.ASNumber.String()
	}
	setOrDelete(out.Annotations, AnnotationNodeASNumber, asn)
	if len(out.Annotations) == 0 {
		out.Annotations = nil
	}
	out.Labels = nil
	if len(n.Labels) > 0 {
		out.Labels = make(map[string]string, len(n.Labels))
		for k, v := range n.Labels {
			out.Labels[k] = v
		}
	}
	return out, nil
}

func setOrDelete(m map[string]string, key, value string) {
	if value == "" {
		delete(m, key)
		return
	}
	m[key] = value
}
