package bgp

import (
	"net/netip"
	"slices"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// advertisements returns what the node originates and the blackholes it
// owns:
//
//   - each affine block (a confirmed BlockAffinity for this node, or an
//     IPAMBlock whose affinity is host:<node> when no BlockAffinity exists
//     for that CIDR) gets a blackhole route, and is advertised when it lies
//     in an IPPool without disableBGPExport;
//   - each address this node holds in a block affine to another node (a
//     borrowed IP) is advertised as a /32 or /128, same pool rule;
//   - the "default" BGPConfiguration's service cluster, external and
//     load-balancer CIDRs are advertised as they are.
//
// Communities from prefixAdvertisements are attached to every advertised
// prefix inside their CIDR.
func (c *computation) advertisements(d *Desired) ([]Advertisement, []netip.Prefix) {
	affinityState := map[netip.Prefix]bool{} // cidr → affine to us (confirmed)
	affine := map[netip.Prefix]bool{}
	for _, a := range c.st.BlockAffinities {
		p, err := netip.ParsePrefix(a.Spec.CIDR)
		if err != nil {
			continue
		}
		p = p.Masked()
		ours := a.Spec.Node == c.nodeName && a.Spec.State == v3.StateConfirmed && !a.Spec.Deleted
		affinityState[p] = affinityState[p] || ours
		if ours {
			affine[p] = true
		}
	}
	host := "host:" + c.nodeName
	adverts := map[netip.Prefix]AdvertisementKind{}
	for i := range c.st.IPAMBlocks {
		b := &c.st.IPAMBlocks[i]
		p, err := netip.ParsePrefix(b.Spec.CIDR)
		if err != nil || b.Spec.Deleted {
			continue
		}
		p = p.Masked()
		if _, known := affinityState[p]; !known && b.Spec.Affinity != nil && *b.Spec.Affinity == host {
			affine[p] = true
		}
		if !affine[p] {
			for _, ip := range borrowedIPs(b, p, c.nodeName) {
				adverts[ip] = AdvertiseBorrowedIP
			}
		}
	}
	var blackholes []netip.Prefix
	for p := range affine {
		blackholes = append(blackholes, p)
		adverts[p] = AdvertiseBlock
	}
	slices.SortFunc(blackholes, comparePrefix)
	for p := range adverts {
		if !c.exportable(p) {
			delete(adverts, p)
		}
	}
	for _, s := range c.def.ServiceClusterIPs {
		addCIDR(adverts, s.CIDR, AdvertiseServiceCluster)
	}
	for _, s := range c.def.ServiceExternalIPs {
		addCIDR(adverts, s.CIDR, AdvertiseServiceExternal)
	}
	for _, s := range c.def.ServiceLoadBalancerIPs {
		addCIDR(adverts, s.CIDR, AdvertiseServiceLB)
	}
	out := make([]Advertisement, 0, len(adverts))
	for p, k := range adverts {
		if (p.Addr().Is4() && !d.IPv4.IsValid()) || (p.Addr().Is6() && !d.IPv6.IsValid()) {
			continue // no next hop of that family
		}
		out = append(out, Advertisement{Prefix: p, Kind: k, Communities: c.communities(p)})
	}
	slices.SortFunc(out, func(a, b Advertisement) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out, blackholes
}

// exportable reports whether p lies in an IPPool that allows BGP export.
// Prefixes outside every pool are not advertised: they are not pod
// addresses Calico knows about.
func (c *computation) exportable(p netip.Prefix) bool {
	for _, pool := range c.st.IPPools {
		pp, err := netip.ParsePrefix(pool.Spec.CIDR)
		if err != nil {
			continue
		}
		if pp.Bits() <= p.Bits() && pp.Contains(p.Addr()) {
			return !pool.Spec.DisableBGPExport
		}
	}
	return false
}

// communities returns the community values attached to p: those of every
// prefixAdvertisement whose CIDR contains p, names resolved through
// spec.communities, in order and without repeats.
func (c *computation) communities(p netip.Prefix) []string {
	named := map[string]string{}
	for _, cm := range c.def.Communities {
		named[cm.Name] = cm.Value
	}
	var out []string
	for _, pa := range c.def.PrefixAdvertisements {
		pp, err := netip.ParsePrefix(pa.CIDR)
		if err != nil || pp.Bits() > p.Bits() || !pp.Masked().Contains(p.Addr()) {
			continue
		}
		for _, name := range pa.Communities {
			v := name
			if nv, ok := named[name]; ok {
				v = nv
			} else if !strings.Contains(name, ":") {
				c.problemf("bgpconfiguration \"default\": prefixAdvertisements %s names community %q, which is not in spec.communities; add it or write the value as aa:nn", pa.CIDR, name)
				continue
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// borrowedIPs returns the host prefixes of addresses in block b allocated
// to node (attribute "node"), for a block affine to someone else.
func borrowedIPs(b *v3.IPAMBlock, block netip.Prefix, node string) []netip.Prefix {
	var out []netip.Prefix
	bits := block.Addr().BitLen()
	for ord, a := range b.Spec.Allocations {
		if a == nil || *a < 0 || *a >= len(b.Spec.Attributes) {
			continue
		}
		if b.Spec.Attributes[*a].AttrSecondary["node"] != node {
			continue
		}
		if ip, ok := addOrdinal(block.Addr(), ord); ok && block.Contains(ip) {
			out = append(out, netip.PrefixFrom(ip, bits))
		}
	}
	return out
}

// addOrdinal returns base + n.
func addOrdinal(base netip.Addr, n int) (netip.Addr, bool) {
	b := base.AsSlice()
	carry := n
	for i := len(b) - 1; i >= 0 && carry > 0; i-- {
		sum := int(b[i]) + carry&0xff
		carry = carry>>8 + sum>>8
		b[i] = byte(sum)
	}
	a, ok := netip.AddrFromSlice(b)
	return a, ok && carry == 0
}

func addCIDR(m map[netip.Prefix]AdvertisementKind, s string, k AdvertisementKind) {
	if p, err := netip.ParsePrefix(s); err == nil {
		m[p.Masked()] = k
	}
}

// usedFilters returns the BGPFilters some desired peer refers to.
func (c *computation) usedFilters(d *Desired) map[string]v3.BGPFilterSpec {
	out := map[string]v3.BGPFilterSpec{}
	for _, p := range d.Peers {
		for _, f := range p.Filters {
			if _, seen := out[f]; seen {
				continue
			}
			s := c.filters[f].Spec
			out[f] = s
			n := 0
			for _, r := range s.ExportV4 {
				n += btoi(r.Interface != "")
			}
			for _, r := range s.ImportV4 {
				n += btoi(r.Interface != "")
			}
			for _, r := range s.ExportV6 {
				n += btoi(r.Interface != "")
			}
			for _, r := range s.ImportV6 {
				n += btoi(r.Interface != "")
			}
			if n > 0 {
				c.problemf("bgpfilter %q: %d rule(s) match on interface, which Tricolor's BGP agent does not support yet; those rules are ignored (remove the interface field to apply them by prefix)", f, n)
			}
		}
	}
	return out
}

// comparePrefix orders prefixes by address then length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
