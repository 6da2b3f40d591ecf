package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindCalicoNodeStatus is the CalicoNodeStatus kind.
const KindCalicoNodeStatus = "CalicoNodeStatus"

// CalicoNodeStatus asks one node to report its agent, BGP and route state
// every updatePeriodSeconds; the node writes the answer into status.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status
type CalicoNodeStatus struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CalicoNodeStatusSpec   `json:"spec,omitempty"`
	Status CalicoNodeStatusStatus `json:"status,omitempty"`
}

// CalicoNodeStatusSpec says which node reports what, how often.
type CalicoNodeStatusSpec struct {
	// Node is the node that reports.
	Node string `json:"node,omitempty"`
	// Classes are the kinds of status wanted: Agent, BGP, Routes.
	Classes []NodeStatusClassType `json:"classes,omitempty"`
	// UpdatePeriodSeconds is the report interval; 0 stops updates (max 86400).
	UpdatePeriodSeconds *uint32 `json:"updatePeriodSeconds,omitempty"`
}

// CalicoNodeStatusStatus is the node's report.
type CalicoNodeStatusStatus struct {
	// LastUpdated is when the node last wrote the report.
	LastUpdated metav1.Time `json:"lastUpdated,omitempty"`
	// Agent is the BGP daemons' state.
	Agent CalicoNodeAgentStatus `json:"agent,omitempty"`
	// BGP is the BGP sessions' state.
	BGP CalicoNodeBGPStatus `json:"bgp,omitempty"`
	// Routes are the routes in the BGP tables.
	Routes CalicoNodeBGPRouteStatus `json:"routes,omitempty"`
}

// CalicoNodeAgentStatus is the state of the per-family BGP daemons.
type CalicoNodeAgentStatus struct {
	// BIRDV4 is the IPv4 daemon (named after BIRD for compatibility).
	BIRDV4 BGPDaemonStatus `json:"birdV4,omitempty"`
	// BIRDV6 is the IPv6 daemon.
	BIRDV6 BGPDaemonStatus `json:"birdV6,omitempty"`
}

// CalicoNodeBGPStatus counts and lists BGP sessions per family.
type CalicoNodeBGPStatus struct {
	// NumberEstablishedV4 counts established IPv4 sessions.
	NumberEstablishedV4 int `json:"numberEstablishedV4"`
	// NumberNotEstablishedV4 counts IPv4 sessions not established.
	NumberNotEstablishedV4 int `json:"numberNotEstablishedV4"`
	// NumberEstablishedV6 counts established IPv6 sessions.
	NumberEstablishedV6 int `json:"numberEstablishedV6"`
	// NumberNotEstablishedV6 counts IPv6 sessions not established.
	NumberNotEstablishedV6 int `json:"numberNotEstablishedV6"`
	// PeersV4 lists the IPv4 sessions.
	PeersV4 []CalicoNodePeer `json:"peersV4,omitempty"`
	// PeersV6 lists the IPv6 sessions.
	PeersV6 []CalicoNodePeer `json:"peersV6,omitempty"`
}

// CalicoNodeBGPRouteStatus lists routes per family.
type CalicoNodeBGPRouteStatus struct {
	// RoutesV4 are the IPv4 routes.
	RoutesV4 []CalicoNodeRoute `json:"routesV4,omitempty"`
	// RoutesV6 are the IPv6 routes.
	RoutesV6 []CalicoNodeRoute `json:"routesV6,omitempty"`
}

// BGPDaemonStatus is one BGP daemon's state.
type BGPDaemonStatus struct {
	// State is Ready or NotReady.
	State BGPDaemonState `json:"state,omitempty"`
	// Version is the daemon's version.
	Version string `json:"version,omitempty"`
	// RouterID is the daemon's BGP router ID.
	RouterID string `json:"routerID,omitempty"`
	// LastBootTime is when the daemon started.
	LastBootTime string `json:"lastBootTime,omitempty"`
	// LastReconfigurationTime is when the daemon last took new configuration.
	LastReconfigurationTime string `json:"lastReconfigurationTime,omitempty"`
}

// CalicoNodePeer is one BGP session.
type CalicoNodePeer struct {
	// PeerIP is the remote address.
	PeerIP string `json:"peerIP,omitempty"`
	// Type is NodeMesh, NodePeer or GlobalPeer.
	Type BGPPeerType `json:"type,omitempty"`
	// State is the BGP FSM state.
	State BGPSessionState `json:"state,omitempty"`
	// Since is when the session entered State.
	Since string `json:"since,omitempty"`
}

// CalicoNodeRoute is one route.
type CalicoNodeRoute struct {
	// Type is FIB (kernel) or RIB (BGP table).
	Type CalicoNodeRouteType `json:"type,omitempty"`
	// Destination is the prefix.
	Destination string `json:"destination,omitempty"`
	// Gateway is the next hop.
	Gateway string `json:"gateway,omitempty"`
	// Interface is the outgoing interface.
	Interface string `json:"interface,omitempty"`
	// LearnedFrom says where the route came from.
	LearnedFrom CalicoNodeRouteLearnedFrom `json:"learnedFrom,omitempty"`
}

// CalicoNodeRouteLearnedFrom is a route's origin.
type CalicoNodeRouteLearnedFrom struct {
	// SourceType is Kernel, Static, Direct, NodeMesh or BGPPeer.
	SourceType CalicoNodeRouteSourceType `json:"sourceType,omitempty"`
	// PeerIP is the peer the route came from, for BGP sources.
	PeerIP string `json:"peerIP,omitempty"`
}

// CalicoNodeRouteType is FIB or RIB.
type CalicoNodeRouteType string

// Route table types.
const (
	RouteTypeFIB CalicoNodeRouteType = "FIB"
	RouteTypeRIB CalicoNodeRouteType = "RIB"
)

// CalicoNodeRouteSourceType is where a route was learned.
type CalicoNodeRouteSourceType string

// Route sources.
const (
	RouteSourceTypeKernel   CalicoNodeRouteSourceType = "Kernel"
	RouteSourceTypeStatic   CalicoNodeRouteSourceType = "Static"
	RouteSourceTypeDirect   CalicoNodeRouteSourceType = "Direct"
	RouteSourceTypeNodeMesh CalicoNodeRouteSourceType = "NodeMesh"
	RouteSourceTypeBGPPeer  CalicoNodeRouteSourceType = "BGPPeer"
)

// NodeStatusClassType is a class of status a node can report.
type NodeStatusClassType string

// Status classes.
const (
	NodeStatusClassTypeAgent  NodeStatusClassType = "Agent"
	NodeStatusClassTypeBGP    NodeStatusClassType = "BGP"
	NodeStatusClassTypeRoutes NodeStatusClassType = "Routes"
)

// BGPPeerType is how a session came to exist.
type BGPPeerType string

// Session origins.
const (
	BGPPeerTypeNodeMesh   BGPPeerType = "NodeMesh"
	BGPPeerTypeNodePeer   BGPPeerType = "NodePeer"
	BGPPeerTypeGlobalPeer BGPPeerType = "GlobalPeer"
)

// BGPDaemonState is Ready or NotReady.
type BGPDaemonState string

// Daemon states.
const (
	BGPDaemonStateReady    BGPDaemonState = "Ready"
	BGPDaemonStateNotReady BGPDaemonState = "NotReady"
)

// BGPSessionState is a BGP finite-state-machine state.
type BGPSessionState string

// Session states (RFC 4271 names, plus Close).
const (
	BGPSessionStateIdle        BGPSessionState = "Idle"
	BGPSessionStateConnect     BGPSessionState = "Connect"
	BGPSessionStateActive      BGPSessionState = "Active"
	BGPSessionStateOpenSent    BGPSessionState = "OpenSent"
	BGPSessionStateOpenConfirm BGPSessionState = "OpenConfirm"
	BGPSessionStateEstablished BGPSessionState = "Established"
	BGPSessionStateClose       BGPSessionState = "Close"
)

// CalicoNodeStatusList is a list of CalicoNodeStatuses.
//
// +kubebuilder:object:root=true
type CalicoNodeStatusList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CalicoNodeStatus `json:"items"`
}

// NewCalicoNodeStatus returns an empty CalicoNodeStatus with its TypeMeta set.
func NewCalicoNodeStatus() *CalicoNodeStatus {
	return &CalicoNodeStatus{TypeMeta: typeMeta(KindCalicoNodeStatus)}
}

// NewCalicoNodeStatusList returns an empty CalicoNodeStatusList with its TypeMeta set.
func NewCalicoNodeStatusList() *CalicoNodeStatusList {
	return &CalicoNodeStatusList{TypeMeta: typeMeta(KindCalicoNodeStatus + "List")}
}

// Default does nothing: Calico requires node, classes and
// updatePeriodSeconds to be given rather than defaulting them.
func (c *CalicoNodeStatus) Default() {}

// maxUpdatePeriodSeconds is Calico's upper bound for updatePeriodSeconds.
const maxUpdatePeriodSeconds = 86400

// Validate checks the node name, that classes are known and unique, and the
// update period.
func (c *CalicoNodeStatus) Validate() error {
	v := newValidator(KindCalicoNodeStatus, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	s := &c.Spec
	if s.Node == "" {
		v.addf("spec.node", "is required; name the node that should report")
	} else if !dns1123Subdomain.MatchString(s.Node) {
		v.addf("spec.node", "%q is not a valid node name; use a DNS-1123 subdomain", s.Node)
	}
	if len(s.Classes) == 0 {
		v.addf("spec.classes", "is required; list one or more of Agent, BGP, Routes")
	}
	seen := map[NodeStatusClassType]bool{}
	for i, cl := range s.Classes {
		switch cl {
		case NodeStatusClassTypeAgent, NodeStatusClassTypeBGP, NodeStatusClassTypeRoutes:
		default:
			v.addf(indexed("spec.classes", i), "%q is not a status class; use Agent, BGP or Routes", cl)
		}
		if seen[cl] {
			v.addf(indexed("spec.classes", i), "%q is listed twice; list each class once", cl)
		}
		seen[cl] = true
	}
	switch {
	case s.UpdatePeriodSeconds == nil:
		v.addf("spec.updatePeriodSeconds", "is required; set the report interval in seconds (0 stops updates)")
	case *s.UpdatePeriodSeconds > maxUpdatePeriodSeconds:
		v.addf("spec.updatePeriodSeconds", "%d is out of range; use 0-%d", *s.UpdatePeriodSeconds, maxUpdatePeriodSeconds)
	}
	return v.result()
}
