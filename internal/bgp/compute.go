package bgp

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// State is the datastore state the BGP agent reads: every resource of the
// kinds below, as the syncer delivers them (already decoded; Default has
// been applied by the client on write).
type State struct {
	Nodes             []v3.Node
	BGPConfigurations []v3.BGPConfiguration
	BGPPeers          []v3.BGPPeer
	BGPFilters        []v3.BGPFilter
	IPPools           []v3.IPPool
	IPAMBlocks        []v3.IPAMBlock
	BlockAffinities   []v3.BlockAffinity
}

// SecretGetter returns the value of one key of a Secret (BGPPassword
// secretKeyRef). calico-node reads Secrets from its own namespace.
type SecretGetter func(name, key string) (string, error)

// Compute derives the node's desired BGP state. It is pure: the same State
// always gives the same Desired. It fails only when the node itself cannot
// run BGP (missing, or without a BGP address); problems with individual
// peers, filters or secrets are reported in Desired.Problems and the rest is
// still computed, so one bad BGPPeer never takes the other sessions down.
func Compute(nodeName string, st *State, secrets SecretGetter) (*Desired, error) {
	c := newComputation(nodeName, st, secrets)
	self, ok := c.nodes[nodeName]
	if !ok {
		return nil, fmt.Errorf("node %q: no Node resource with that name; calico-node writes it at startup, check NODENAME", nodeName)
	}
	v4, v6 := nodeAddrs(self)
	if !v4.IsValid() && !v6.IsValid() {
		return nil, fmt.Errorf("node %q: spec.bgp has no ipv4Address or ipv6Address; set one (e.g. 198.18.0.2/24) or use IP autodetection", nodeName)
	}
	d := &Desired{
		NodeName:   nodeName,
		IPv4:       v4,
		IPv6:       v6,
		ASN:        c.nodeASN(self),
		ListenPort: c.listenPort(nodeName),
		RouterID:   routerID(nodeName, v4),
	}
	if self.Spec.BGP != nil {
		d.RouteReflectorClusterID = self.Spec.BGP.RouteReflectorClusterID
		d.Tunnels = tunnelPolicy(st.IPPools, self.Spec.BGP.IPv4Address)
	}
	d.Peers = c.peers(self, d)
	d.Advertisements, d.Blackholes = c.advertisements(d)
	d.Filters = c.usedFilters(d)
	d.Problems = c.problems
	return d, nil
}

// computation holds the indexed input and the problems found so far.
type computation struct {
	nodeName string
	st       *State
	secrets  SecretGetter
	nodes    map[string]*v3.Node
	nodeList []*v3.Node // sorted by name
	def      *v3.BGPConfigurationSpec
	perNode  map[string]*v3.BGPConfigurationSpec
	filters  map[string]*v3.BGPFilter
	problems []string
}

func newComputation(nodeName string, st *State, secrets SecretGetter) *computation {
	c := &computation{
		nodeName: nodeName,
		st:       st,
		secrets:  secrets,
		nodes:    make(map[string]*v3.Node, len(st.Nodes)),
		perNode:  map[string]*v3.BGPConfigurationSpec{},
		filters:  map[string]*v3.BGPFilter{},
		def:      &v3.BGPConfigurationSpec{},
	}
	for i := range st.Nodes {
		n := &st.Nodes[i]
		c.nodes[n.Name] = n
		c.nodeList = append(c.nodeList, n)
	}
	slices.SortFunc(c.nodeList, func(a, b *v3.Node) int { return strings.Compare(a.Name, b.Name) })
	for i := range st.BGPConfigurations {
		cfg := &st.BGPConfigurations[i]
		switch {
		case cfg.Name == v3.BGPConfigurationDefault:
			c.def = &cfg.Spec
		case strings.HasPrefix(cfg.Name, "node."):
			c.perNode[strings.TrimPrefix(cfg.Name, "node.")] = &cfg.Spec
		}
	}
	for i := range st.BGPFilters {
		c.filters[st.BGPFilters[i].Name] = &st.BGPFilters[i]
	}
	return c
}

func (c *computation) problemf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// meshEnabled is the "default" configuration's nodeToNodeMeshEnabled
// (default true).
func (c *computation) meshEnabled() bool {
	if c.def.NodeToNodeMeshEnabled == nil {
		return v3.DefaultNodeToNodeMesh
	}
	return *c.def.NodeToNodeMeshEnabled
}

// defaultASN is the cluster-wide AS number.
func (c *computation) defaultASN() uint32 {
	if c.def.ASNumber != nil {
		return uint32(*c.def.ASNumber)
	}
	return uint32(v3.DefaultASNumber)
}

// nodeASN is a node's own AS number, else the cluster default.
func (c *computation) nodeASN(n *v3.Node) uint32 {
	if n.Spec.BGP != nil && n.Spec.BGP.ASNumber != nil {
		return uint32(*n.Spec.BGP.ASNumber)
	}
	return c.defaultASN()
}

// listenPort is the node's BGP port: node.<name> overrides default, which
// overrides 179.
func (c *computation) listenPort(nodeName string) uint16 {
	if s := c.perNode[nodeName]; s != nil && s.ListenPort != 0 {
		return s.ListenPort
	}
	if c.def.ListenPort != 0 {
		return c.def.ListenPort
	}
	return v3.DefaultBGPListenPort
}

// nodeAddrs returns a node's BGP addresses without their prefix lengths.
func nodeAddrs(n *v3.Node) (v4, v6 netip.Addr) {
	if n.Spec.BGP == nil {
		return
	}
	return parseIfaceAddr(n.Spec.BGP.IPv4Address), parseIfaceAddr(n.Spec.BGP.IPv6Address)
}

// parseIfaceAddr accepts "addr/len" or "addr"; invalid input gives the zero Addr.
func parseIfaceAddr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr()
	}
	a, _ := netip.ParseAddr(s)
	return a
}

// routerID is the node's IPv4 address; an IPv6-only node gets a stable
// 32-bit value hashed from its name (never 0.0.0.0).
func routerID(nodeName string, v4 netip.Addr) netip.Addr {
	if v4.IsValid() {
		return v4
	}
	h := fnv.New32a()
	h.Write([]byte(nodeName))
	s := h.Sum32() | 1
	return netip.AddrFrom4([4]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}
