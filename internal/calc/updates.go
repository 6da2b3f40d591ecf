package calc

import (
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Update is one dataplane change emitted by the graph. Within one batch
// (one Flush) each Key appears at most once; a consumer applies a batch in
// order. Values reachable from an Update are shared with the graph and
// must be treated as read-only.
type Update interface {
	// Key identifies what the update is about ("ipset/<id>",
	// "policy/<tier>/<ns>/<name>", "wep/<ns>/<name>", ...); an XUpdate and
	// its XRemove share a key.
	Key() string
}

// IPSetType says what the members of an IP set are.
type IPSetType int

const (
	// IPSetNets holds CIDRs ("10.0.0.1/32", "192.168.0.0/16", "fd00::1/128"),
	// IPv4 and IPv6 mixed; a consumer splits them by family.
	IPSetNets IPSetType = iota + 1
	// IPSetNetPorts holds "IP,proto:port" members ("10.0.0.1,tcp:8080")
	// for named ports; proto is tcp, udp or sctp.
	IPSetNetPorts
)

// String names the set type.
func (t IPSetType) String() string {
	switch t {
	case IPSetNets:
		return "nets"
	case IPSetNetPorts:
		return "net-ports"
	}
	return "unknown"
}

// IPSetUpdate creates an IP set or replaces its whole membership. It is sent
// before any policy or profile that refers to the set.
type IPSetUpdate struct {
	ID      string
	Type    IPSetType
	Members []string // sorted
}

// IPSetDelta changes the membership of a set already sent by IPSetUpdate.
type IPSetDelta struct {
	ID      string
	Added   []string // sorted
	Removed []string // sorted
}

// IPSetRemove deletes a set; it is sent after every policy and profile that
// referred to it has been updated or removed.
type IPSetRemove struct {
	ID string
}

// PolicyID names a policy: Namespace is empty for a GlobalNetworkPolicy.
type PolicyID struct {
	Tier      string
	Namespace string
	Name      string
}

// String renders "name" (global) or "namespace/name", Calico's form.
func (id PolicyID) String() string {
	if id.Namespace == "" {
		return id.Name
	}
	return id.Namespace + "/" + id.Name
}

// Policy is a policy compiled for the dataplane: selectors, namespace
// scoping, service accounts and named ports are resolved into IP set IDs.
// Inbound rules are present only when the policy applies to ingress,
// outbound rules only when it applies to egress.
type Policy struct {
	Order          *float64
	InboundRules   []Rule
	OutboundRules  []Rule
	ApplyOnForward bool
	PreDNAT        bool
	DoNotTrack     bool
}

// ActivePolicyUpdate sends (or replaces) a policy that selects at least one
// local endpoint.
type ActivePolicyUpdate struct {
	ID     PolicyID
	Policy *Policy
}

// ActivePolicyRemove removes a policy that no longer selects any local
// endpoint (or no longer exists). It is sent after every endpoint update
// that stopped referring to it.
type ActivePolicyRemove struct {
	ID PolicyID
}

// Profile is a profile compiled for the dataplane.
type Profile struct {
	InboundRules  []Rule
	OutboundRules []Rule
	// Missing is true when an endpoint names a profile that does not exist:
	// its rules are then Calico's fail-closed stand-in (deny both ways).
	Missing bool
}

// ActiveProfileUpdate sends (or replaces) a profile a local endpoint uses.
type ActiveProfileUpdate struct {
	Name    string
	Profile *Profile
}

// ActiveProfileRemove removes a profile no local endpoint uses any more.
type ActiveProfileRemove struct {
	Name string
}

// TierInfo is one tier as it applies to one endpoint: the policies of the
// tier that select the endpoint, in evaluation order, per direction. A tier
// with no policies for a direction does not apply in that direction.
type TierInfo struct {
	Name string
	// DefaultAction is "Deny" or "Pass": what happens to traffic that no
	// rule of the tier's policies (for that direction) decided.
	DefaultAction   v3.Action
	IngressPolicies []PolicyID
	EgressPolicies  []PolicyID
}

// WorkloadEndpointID names a workload endpoint resource.
type WorkloadEndpointID struct {
	Namespace string
	Name      string
}

// WorkloadEndpoint is a local workload endpoint as the dataplane needs it.
type WorkloadEndpoint struct {
	InterfaceName string
	MAC           string
	IPv4Nets      []string // "/32"s
	IPv6Nets      []string // "/128"s
	// Profiles are applied in order after the tiers (profile names, each
	// sent by ActiveProfileUpdate first).
	Profiles []string
	// Tiers are in evaluation order.
	Tiers  []TierInfo
	Labels map[string]string // effective labels (own + inherited)
	// AllowSpoofedSourcePrefixes are the extra source CIDRs allowed out.
	AllowSpoofedSourcePrefixes []string
}

// WorkloadEndpointUpdate sends (or replaces) a local workload endpoint.
type WorkloadEndpointUpdate struct {
	ID       WorkloadEndpointID
	Endpoint *WorkloadEndpoint
}

// WorkloadEndpointRemove removes a local workload endpoint.
type WorkloadEndpointRemove struct {
	ID WorkloadEndpointID
}

// HostEndpoint is a local host endpoint as the dataplane needs it.
type HostEndpoint struct {
	// InterfaceName is the interface, "*" for all host interfaces, or empty
	// when the endpoint is matched by ExpectedIPs.
	InterfaceName string
	ExpectedIPv4s []string
	ExpectedIPv6s []string
	Profiles      []string
	// Tiers hold normal policies (not preDNAT, not doNotTrack).
	Tiers []TierInfo
	// UntrackedTiers hold doNotTrack policies.
	UntrackedTiers []TierInfo
	// PreDNATTiers hold preDNAT policies (ingress only).
	PreDNATTiers []TierInfo
	// ForwardTiers hold the normal policies with applyOnForward.
	ForwardTiers []TierInfo
	Labels       map[string]string
}

// HostEndpointUpdate sends (or replaces) a local host endpoint.
type HostEndpointUpdate struct {
	Name     string
	Endpoint *HostEndpoint
}

// HostEndpointRemove removes a local host endpoint.
type HostEndpointRemove struct {
	Name string
}

// RouteType says where a route's destination lives.
type RouteType int

const (
	// RouteLocalBlock is an IPAM block affine to this node (blackhole it;
	// local workloads get /32 routes from their endpoints).
	RouteLocalBlock RouteType = iota + 1
	// RouteRemoteBlock is an IPAM block affine to another node.
	RouteRemoteBlock
)

// String names the route type.
func (t RouteType) String() string {
	switch t {
	case RouteLocalBlock:
		return "local-block"
	case RouteRemoteBlock:
		return "remote-block"
	}
	return "unknown"
}

// Pool is the part of an IP pool the dataplane needs.
type Pool struct {
	CIDR        string
	NATOutgoing bool
	IPIPMode    v3.IPIPMode
	VXLANMode   v3.VXLANMode
	Disabled    bool
}

// Route is a route to an IPAM block.
type Route struct {
	Dst  string // the block's CIDR
	Type RouteType
	// Node is the node the block is affine to.
	Node string
	// NodeIP is that node's address of the block's family (empty if the
	// node is unknown or has none).
	NodeIP string
	// SameSubnet is true when NodeIP is in this node's own subnet (for
	// CrossSubnet encapsulation).
	SameSubnet bool
	// Pool is the pool containing the block (nil when none does).
	Pool *Pool
}

// RouteUpdate sends (or replaces) a route.
type RouteUpdate struct {
	Route Route
}

// RouteRemove removes the route to Dst.
type RouteRemove struct {
	Dst string
}

// IPPoolUpdate sends (or replaces) an IP pool (for natOutgoing and
// encapsulation decisions).
type IPPoolUpdate struct {
	Name string
	Pool Pool
}

// IPPoolRemove removes an IP pool.
type IPPoolRemove struct {
	Name string
}

// VTEP is a node's VXLAN tunnel endpoint.
type VTEP struct {
	Node string
	// IPv4Addr / MAC are the node's IPv4 VXLAN device address and MAC;
	// ParentIPv4 is the node's own address the tunnel runs over.
	IPv4Addr   string
	MAC        string
	ParentIPv4 string
	// IPv6Addr / MACV6 / ParentIPv6 are the IPv6 equivalents.
	IPv6Addr   string
	MACV6      string
	ParentIPv6 string
	// IPIPv4Addr is the node's IPIP (tunl0) address; the IPIP tunnel runs
	// over ParentIPv4.
	IPIPv4Addr string
}

// VTEPUpdate sends (or replaces) a node's VTEP (this node's included).
type VTEPUpdate struct {
	VTEP VTEP
}

// VTEPRemove removes a node's VTEP.
type VTEPRemove struct {
	Node string
}

// ConfigUpdate carries the effective Felix configuration: the "default"
// FelixConfiguration overlaid field by field with "node.<this node>".
type ConfigUpdate struct {
	Config *v3.FelixConfigurationSpec
}

// InSync is sent once, at the end of the first batch after the datastore
// reported in-sync: from then on the dataplane may remove state the graph
// has not mentioned.
type InSync struct{}

// Key implementations: an update and its removal share a key.

// Key implements Update.
func (u IPSetUpdate) Key() string { return "ipset/" + u.ID }

// Key implements Update.
func (u IPSetDelta) Key() string { return "ipset/" + u.ID }

// Key implements Update.
func (u IPSetRemove) Key() string { return "ipset/" + u.ID }

// Key implements Update.
func (u ActivePolicyUpdate) Key() string { return "policy/" + u.ID.Tier + "/" + u.ID.String() }

// Key implements Update.
func (u ActivePolicyRemove) Key() string { return "policy/" + u.ID.Tier + "/" + u.ID.String() }

// Key implements Update.
func (u ActiveProfileUpdate) Key() string { return "profile/" + u.Name }

// Key implements Update.
func (u ActiveProfileRemove) Key() string { return "profile/" + u.Name }

// Key implements Update.
func (u WorkloadEndpointUpdate) Key() string { return "wep/" + u.ID.Namespace + "/" + u.ID.Name }

// Key implements Update.
func (u WorkloadEndpointRemove) Key() string { return "wep/" + u.ID.Namespace + "/" + u.ID.Name }

// Key implements Update.
func (u HostEndpointUpdate) Key() string { return "hep/" + u.Name }

// Key implements Update.
func (u HostEndpointRemove) Key() string { return "hep/" + u.Name }

// Key implements Update.
func (u RouteUpdate) Key() string { return "route/" + u.Route.Dst }

// Key implements Update.
func (u RouteRemove) Key() string { return "route/" + u.Dst }

// Key implements Update.
func (u IPPoolUpdate) Key() string { return "pool/" + u.Name }

// Key implements Update.
func (u IPPoolRemove) Key() string { return "pool/" + u.Name }

// Key implements Update.
func (u VTEPUpdate) Key() string { return "vtep/" + u.VTEP.Node }

// Key implements Update.
func (u VTEPRemove) Key() string { return "vtep/" + u.Node }

// Key implements Update.
func (u ConfigUpdate) Key() string { return "config" }

// Key implements Update.
func (u InSync) Key() string { return "in-sync" }
