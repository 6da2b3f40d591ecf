package v3

import (
	"net"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// KindBGPPeer is the BGPPeer kind.
const KindBGPPeer = "BGPPeer"

// BGPPeer describes BGP sessions to set up: from the selected nodes (node,
// nodeSelector, or all nodes) to a remote address (peerIP), to other Calico
// nodes (peerSelector) or to local workloads (localWorkloadSelector).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BGPPeerSpec `json:"spec,omitempty"`
}

// SourceAddress says which source address BGP sessions use.
type SourceAddress string

// Source address modes.
const (
	SourceAddressUseNodeIP SourceAddress = "UseNodeIP"
	SourceAddressNone      SourceAddress = "None"
)

// NextHopMode says how the next hop of routes sent to the peer is set.
//
// +kubebuilder:validation:Enum=Auto;Self;Keep
type NextHopMode string

// Next-hop modes.
const (
	NextHopModeAuto NextHopMode = "Auto"
	NextHopModeSelf NextHopMode = "Self"
	NextHopModeKeep NextHopMode = "Keep"
)

// ReversePeering says whether the peering back from selected Calico nodes is
// generated automatically.
type ReversePeering string

// Reverse peering modes.
const (
	ReversePeeringAuto   ReversePeering = "Auto"
	ReversePeeringManual ReversePeering = "Manual"
)

// BGPPeerSpec is the desired peering.
type BGPPeerSpec struct {
	// Node limits the peering to one node; empty (with no nodeSelector) means all nodes.
	// +optional
	Node string `json:"node,omitempty"`
	// NodeSelector picks the nodes that peer; exclusive with node.
	// +optional
	NodeSelector string `json:"nodeSelector,omitempty"`
	// PeerIP is the remote address: "ip", "ipv4:port" or "[ipv6]:port".
	// +optional
	PeerIP string `json:"peerIP,omitempty"`
	// ASNumber is the remote AS number (with peerIP or localWorkloadSelector).
	// +optional
	ASNumber numorstring.ASNumber `json:"asNumber,omitempty"`
	// LocalASNumber overrides the local AS number for this peering.
	// +optional
	LocalASNumber *numorstring.ASNumber `json:"localASNumber,omitempty"`
	// PeerSelector picks Calico nodes to peer with; exclusive with peerIP and asNumber.
	// +optional
	PeerSelector string `json:"peerSelector,omitempty"`
	// KeepOriginalNextHop is the deprecated form of nextHopMode Keep.
	KeepOriginalNextHop bool `json:"keepOriginalNextHop,omitempty"`
	// NextHopMode is Auto, Self or Keep; it overrides keepOriginalNextHop.
	// +optional
	// +kubebuilder:validation:Enum=Auto;Self;Keep
	NextHopMode *NextHopMode `json:"nextHopMode,omitempty"`
	// Password is the session's MD5 password.
	Password *BGPPassword `json:"password,omitempty"`
	// SourceAddress is UseNodeIP (default) or None.
	SourceAddress SourceAddress `json:"sourceAddress,omitempty"`
	// MaxRestartTime is the graceful-restart time (agent default 120s).
	MaxRestartTime *metav1.Duration `json:"maxRestartTime,omitempty"`
	// NumAllowedLocalASNumbers allows our own AS in received paths that many
	// times (disables loop prevention; use with care).
	// +optional
	NumAllowedLocalASNumbers *int32 `json:"numAllowedLocalASNumbers,omitempty"`
	// TTLSecurity enables GTSM with the given hop count.
	// +optional
	TTLSecurity *uint8 `json:"ttlSecurity,omitempty"`
	// ReachableBy is a gateway through which a /32 (or /128) static route to
	// the peer is installed, to stop route flapping.
	// +optional
	ReachableBy string `json:"reachableBy,omitempty"`
	// Filters are BGPFilter names applied to this peering, in order.
	// +optional
	Filters []string `json:"filters,omitempty"`
	// LocalWorkloadSelector picks local workloads to peer with; needs asNumber,
	// excludes peerIP and peerSelector.
	// +optional
	LocalWorkloadSelector string `json:"localWorkloadSelector,omitempty"`
	// ReversePeering is Auto (default) or Manual.
	// +kubebuilder:validation:Enum=Auto;Manual;
	ReversePeering *ReversePeering `json:"reversePeering,omitempty"`
}

// BGPPeerList is a list of BGPPeers.
//
// +kubebuilder:object:root=true
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}

// NewBGPPeer returns an empty BGPPeer with its TypeMeta set.
func NewBGPPeer() *BGPPeer { return &BGPPeer{TypeMeta: typeMeta(KindBGPPeer)} }

// NewBGPPeerList returns an empty BGPPeerList with its TypeMeta set.
func NewBGPPeerList() *BGPPeerList { return &BGPPeerList{TypeMeta: typeMeta(KindBGPPeer + "List")} }

// Default does nothing: Calico stores BGPPeers as written; sourceAddress
// UseNodeIP, nextHopMode Auto and reversePeering Auto are run-time defaults.
func (p *BGPPeer) Default() {}

// Validate checks which of node/nodeSelector and peerIP/peerSelector/
// localWorkloadSelector are combined, the peer address, AS numbers, selectors,
// enums, filter names and the reachableBy gateway.
func (p *BGPPeer) Validate() error {
	v := newValidator(KindBGPPeer, &p.ObjectMeta)
	v.name(&p.ObjectMeta, false)
	s := &p.Spec
	if s.Node != "" && s.NodeSelector != "" {
		v.addf("spec.nodeSelector", "cannot be combined with spec.node; use one of them")
	}
	if s.Node != "" && !dns1123Subdomain.MatchString(s.Node) {
		v.addf("spec.node", "%q is not a valid node name; use a DNS-1123 subdomain", s.Node)
	}
	v.selectorExpr("spec.nodeSelector", s.NodeSelector)
	v.selectorExpr("spec.peerSelector", s.PeerSelector)
	v.selectorExpr("spec.localWorkloadSelector", s.LocalWorkloadSelector)
	if s.PeerIP != "" && s.PeerSelector != "" {
		v.addf("spec.peerSelector", "cannot be combined with spec.peerIP; peer with an address or with selected nodes, not both")
	}
	if s.PeerSelector != "" && s.ASNumber != 0 {
		v.addf("spec.asNumber", "must be empty with spec.peerSelector; the remote AS comes from each selected node")
	}
	if s.LocalWorkloadSelector != "" {
		if s.PeerIP != "" || s.PeerSelector != "" {
			v.addf("spec.localWorkloadSelector", "cannot be combined with spec.peerIP or spec.peerSelector")
		}
		if s.ASNumber == 0 {
			v.addf("spec.asNumber", "is required with spec.localWorkloadSelector; set the workloads' AS number")
		}
	}
	var peer net.IP
	if s.PeerIP != "" {
		ip, _, ok := parseHostPort(s.PeerIP)
		if !ok {
			v.addf("spec.peerIP", "%q is not a valid peer address; use an IP, ipv4:port or [ipv6]:port, e.g. 192.0.2.10 or [fd00::10]:1179", s.PeerIP)
		} else {
			peer = ip
		}
		if s.ASNumber == 0 {
			v.addf("spec.asNumber", "is required with spec.peerIP; set the peer's AS number (plain or dotted, e.g. 64513 or 1.10)")
		}
	}
	if s.NextHopMode != nil {
		v.oneOf("spec.nextHopMode", string(*s.NextHopMode), string(NextHopModeAuto), string(NextHopModeSelf), string(NextHopModeKeep))
	}
	if s.ReversePeering != nil {
		v.oneOf("spec.reversePeering", string(*s.ReversePeering), string(ReversePeeringAuto), string(ReversePeeringManual))
	}
	v.oneOf("spec.sourceAddress", string(s.SourceAddress), string(SourceAddressUseNodeIP), string(SourceAddressNone))
	s.Password.validate(v, "spec.password")
	v.duration("spec.maxRestartTime", s.MaxRestartTime)
	if s.NumAllowedLocalASNumbers != nil && *s.NumAllowedLocalASNumbers < 0 {
		v.addf("spec.numAllowedLocalASNumbers", "%d is negative; use 0 or more", *s.NumAllowedLocalASNumbers)
	}
	if s.ReachableBy != "" {
		if s.PeerIP == "" {
			v.addf("spec.reachableBy", "needs spec.peerIP; it is the gateway used to reach that peer")
		}
		if gw := v.ip("spec.reachableBy", s.ReachableBy, anyFamily); gw != nil && peer != nil && (gw.To4() == nil) != (peer.To4() == nil) {
			v.addf("spec.reachableBy", "%s and peer %s are of different IP families; use a gateway of the peer's family", s.ReachableBy, s.PeerIP)
		}
	}
	for i, f := range s.Filters {
		if !dns1123Subdomain.MatchString(f) {
			v.addf(indexed("spec.filters", i), "%q is not a valid BGPFilter name", f)
		}
	}
	return v.result()
}
