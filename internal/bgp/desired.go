package bgp

import (
	"net/netip"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// PeerType is how a peering came about; the strings are the PEER TYPE
// column of `calicoctl node status`.
type PeerType string

// Peer types, spelled as calicoctl prints them.
const (
	PeerTypeMesh   PeerType = "node-to-node mesh"
	PeerTypeGlobal PeerType = "global"
	PeerTypeNode   PeerType = "node specific"
)

// DefaultMaxRestartTime is the graceful-restart time used when neither the
// BGPPeer nor BGPConfiguration sets one (Calico's BIRD default).
const DefaultMaxRestartTime = 120 * time.Second

// Desired is everything the local BGP speaker should be doing, computed from
// datastore state by Compute. Peers and Advertisements are sorted, so two
// Desired values for the same input compare equal.
type Desired struct {
	// NodeName is the local Calico node.
	NodeName string
	// RouterID is the node's IPv4 BGP address, or a stable value derived
	// from the node name for an IPv6-only node.
	RouterID netip.Addr
	// ASN is the node's AS number (Node spec.bgp.asNumber, else the
	// "default" BGPConfiguration's, else 64512).
	ASN uint32
	// ListenPort is the port the speaker listens on (default 179).
	ListenPort uint16
	// IPv4 and IPv6 are the node's BGP addresses (invalid when unset); they
	// are the next hop of everything the node advertises.
	IPv4, IPv6 netip.Addr
	// RouteReflectorClusterID is set when the node is a route reflector.
	RouteReflectorClusterID string
	// Peers are the sessions to have, sorted by address then port.
	Peers []Peer
	// Advertisements are the prefixes to originate, sorted by prefix.
	Advertisements []Advertisement
	// Blackholes are this node's affine blocks; they are installed as local
	// blackhole routes so traffic to unallocated addresses stops here.
	Blackholes []netip.Prefix
	// Tunnels says which learned routes go over IPIP (tunl0).
	Tunnels TunnelPolicy
	// Filters holds every BGPFilter some peer refers to, by name.
	Filters map[string]v3.BGPFilterSpec
	// Problems are non-fatal inconsistencies found while computing (a peer
	// with a missing filter or secret, a node without an address); each
	// names the resource and the fix. The rest of the state is still used.
	Problems []string
}

// Peer is one BGP session to keep.
type Peer struct {
	// Name is the BIRD-style protocol name calicoctl prints and Calico
	// users grep for: Mesh_198_18_0_2, Node_…, Global_….
	Name string
	// Address is the remote address.
	Address netip.Addr
	// Port is the remote port (179 unless the peer or its node says otherwise).
	Port uint16
	// ASN is the remote AS number.
	ASN uint32
	// LocalASN overrides the local AS number for this session (0: Desired.ASN).
	LocalASN uint32
	// Type is mesh, global or node specific.
	Type PeerType
	// NodeName is the Calico node behind the address, if any.
	NodeName string
	// RRClient marks the peer as our route-reflector client.
	RRClient bool
	// Passive means we wait for the peer to connect: mesh sessions are made
	// one-directional, as Calico does (the node with the higher address
	// connects, the lower one waits), so the two ends never race to open
	// crossing connections.
	Passive bool
	// Password is the TCP MD5 password ("" for none).
	Password string
	// KeepOriginalNextHop leaves the next hop of routes sent to the peer
	// unchanged (nextHopMode Keep or keepOriginalNextHop).
	KeepOriginalNextHop bool
	// NextHopSelf forces our address as next hop (nextHopMode Self).
	NextHopSelf bool
	// MaxRestartTime is the graceful-restart time advertised to the peer.
	MaxRestartTime time.Duration
	// SourceAddress is the local address the session is bound to (the
	// node's address of the peer's family unless sourceAddress None).
	SourceAddress netip.Addr
	// TTLSecurity enables GTSM with that many hops (0: off).
	TTLSecurity uint8
	// NumAllowedLocalASNumbers lets our own AS appear that often in paths.
	NumAllowedLocalASNumbers uint32
	// Filters are BGPFilter names applied in order (see Desired.Filters).
	Filters []string
}

// Key identifies a session: the remote address and port.
func (p Peer) Key() netip.AddrPort { return netip.AddrPortFrom(p.Address, p.Port) }

// External reports whether the session is eBGP for the given local AS.
func (p Peer) External(localASN uint32) bool {
	if p.LocalASN != 0 {
		localASN = p.LocalASN
	}
	return p.ASN != localASN
}

// AdvertisementKind says why a prefix is advertised.
type AdvertisementKind string

// Advertisement kinds.
const (
	AdvertiseBlock           AdvertisementKind = "block"
	AdvertiseBorrowedIP      AdvertisementKind = "borrowed-ip"
	AdvertiseServiceCluster  AdvertisementKind = "service-cluster-ip"
	AdvertiseServiceExternal AdvertisementKind = "service-external-ip"
	AdvertiseServiceLB       AdvertisementKind = "service-loadbalancer-ip"
)

// Advertisement is one prefix the node originates.
type Advertisement struct {
	// Prefix is what is advertised.
	Prefix netip.Prefix
	// Kind says why.
	Kind AdvertisementKind
	// Communities are standard ("aa:nn") or large ("aa:nn:mm") community
	// values from the BGPConfiguration's prefixAdvertisements.
	Communities []string
}
