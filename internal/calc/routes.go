package calc

import (
	"net/netip"
	"sort"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Routing state is small (pools, blocks, nodes), so the route resolver
// recomputes its whole output when any input changed and sends the
// difference from what it sent last.
//
//	IPPool ─┐
//	IPAMBlock ─┼─► computeRouting ─► diff vs sent ─► IPPool/VTEP/Route updates
//	Node ─────┘

// blockData is an IPAM block's CIDR and the node it is affine to.
type blockData struct {
	cidr netip.Prefix
	node string
}

// nodeData is what routing needs from a Node.
type nodeData struct {
	v4, v6 netip.Prefix // address and its subnet; invalid when unknown
	vtep   VTEP
}

// poolData is a parsed pool.
type poolData struct {
	cidr netip.Prefix
	pool Pool
}

// nodeFromResource extracts addresses and VXLAN tunnel data from a Node.
func nodeFromResource(n *v3.Node) *nodeData {
	nd := &nodeData{}
	if b := n.Spec.BGP; b != nil {
		nd.v4 = parseIfaceAddr(b.IPv4Address)
		nd.v6 = parseIfaceAddr(b.IPv6Address)
	}
	for _, a := range n.Spec.Addresses {
		if a.Type != v3.CalicoNodeIP && a.Type != v3.InternalIP && a.Type != "" {
			continue
		}
		p := parseIfaceAddr(a.Address)
		switch {
		case !p.IsValid():
		case p.Addr().Is4() && !nd.v4.IsValid():
			nd.v4 = p
		case p.Addr().Is6() && !nd.v6.IsValid():
			nd.v6 = p
		}
	}
	s := &n.Spec
	nd.vtep = VTEP{Node: n.Name, IPv4Addr: s.IPv4VXLANTunnelAddr, MAC: s.VXLANTunnelMACAddr,
		IPv6Addr: s.IPv6VXLANTunnelAddr, MACV6: s.VXLANTunnelMACAddrV6}
	if b := s.BGP; b != nil {
		nd.vtep.IPIPv4Addr = b.IPv4IPIPTunnelAddr
	}
	if nd.v4.IsValid() {
		nd.vtep.ParentIPv4 = nd.v4.Addr().String()
	}
	if nd.v6.IsValid() {
		nd.vtep.ParentIPv6 = nd.v6.Addr().String()
	}
	return nd
}

// parseIfaceAddr parses "addr" or "addr/len" (the node's subnet); a bare
// address gets a host-length prefix.
func parseIfaceAddr(s string) netip.Prefix {
	if s == "" {
		return netip.Prefix{}
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}
		}
		return p
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// hasVTEP reports whether the node has a tunnel endpoint: a complete VXLAN
// VTEP for some family, or an IPIP tunnel address.
func (nd *nodeData) hasVTEP() bool {
	v := nd.vtep
	return (v.IPv4Addr != "" && v.MAC != "" && v.ParentIPv4 != "") ||
		(v.IPv6Addr != "" && v.MACV6 != "" && v.ParentIPv6 != "") ||
		v.IPIPv4Addr != ""
}

// computeRouting derives pools, VTEPs and block routes from current state.
func (g *Graph) computeRouting() (map[string]Pool, map[string]VTEP, map[string]Route) {
	pools := make(map[string]Pool, len(g.pools))
	for name, p := range g.pools {
		pools[name] = p.pool
	}
	vteps := map[string]VTEP{}
	for name, nd := range g.nodes {
		if nd.hasVTEP() {
			vteps[name] = nd.vtep
		}
	}
	me := g.nodes[g.cfg.NodeName]
	routes := make(map[string]Route, len(g.blocks))
	for _, b := range g.blocks {
		r := Route{Dst: b.cidr.String(), Node: b.node, Type: RouteRemoteBlock}
		if b.node == g.cfg.NodeName {
			r.Type = RouteLocalBlock
		}
		if nd := g.nodes[b.node]; nd != nil {
			local := netip.Prefix{}
			peer := nd.v4
			if me != nil {
				local = me.v4
			}
			if b.cidr.Addr().Is6() {
				peer = nd.v6
				local = netip.Prefix{}
				if me != nil {
					local = me.v6
				}
			}
			if peer.IsValid() {
				r.NodeIP = peer.Addr().String()
				r.SameSubnet = local.IsValid() && local.Masked().Contains(peer.Addr())
			}
		}
		r.Pool = g.poolFor(b.cidr)
		routes[r.Dst] = r
	}
	return pools, vteps, routes
}

// poolFor returns the most specific pool containing the block (nil if none).
func (g *Graph) poolFor(block netip.Prefix) *Pool {
	var best *poolData
	for _, p := range g.pools {
		if p.cidr.Bits() <= block.Bits() && p.cidr.Contains(block.Addr()) &&
			(best == nil || p.cidr.Bits() > best.cidr.Bits()) {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	pool := best.pool
	return &pool
}

// routingUpdates returns the routing changes since the last batch, split
// into those to send before and after the policy/endpoint updates.
func (g *Graph) routingUpdates() (early, late []Update) {
	if !g.routingDirty {
		return nil, nil
	}
	g.routingDirty = false
	pools, vteps, routes := g.computeRouting()
	for _, name := range sortedKeys(pools) {
		if old, ok := g.sentPools[name]; !ok || old != pools[name] {
			early = append(early, IPPoolUpdate{Name: name, Pool: pools[name]})
		}
	}
	for _, name := range sortedKeys(vteps) {
		if old, ok := g.sentVTEPs[name]; !ok || old != vteps[name] {
			early = append(early, VTEPUpdate{VTEP: vteps[name]})
		}
	}
	for _, dst := range sortedKeys(routes) {
		if old, ok := g.sentRoutes[dst]; !ok || !routeEqual(old, routes[dst]) {
			early = append(early, RouteUpdate{Route: routes[dst]})
		}
	}
	for _, dst := range sortedKeys(g.sentRoutes) {
		if _, ok := routes[dst]; !ok {
			late = append(late, RouteRemove{Dst: dst})
		}
	}
	for _, name := range sortedKeys(g.sentVTEPs) {
		if _, ok := vteps[name]; !ok {
			late = append(late, VTEPRemove{Node: name})
		}
	}
	for _, name := range sortedKeys(g.sentPools) {
		if _, ok := pools[name]; !ok {
			late = append(late, IPPoolRemove{Name: name})
		}
	}
	g.sentPools, g.sentVTEPs, g.sentRoutes = pools, vteps, routes
	return early, late
}

func routeEqual(a, b Route) bool {
	if (a.Pool == nil) != (b.Pool == nil) || (a.Pool != nil && *a.Pool != *b.Pool) {
		return false
	}
	a.Pool, b.Pool = nil, nil
	return a == b
}

// sortedKeys returns a map's keys in order (output order is deterministic).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
