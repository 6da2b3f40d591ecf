package bgp

import (
	"net/netip"
	"slices"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// IPIPDevice is the IPIP tunnel device learned routes of IPIP pools use
// (created and addressed by Felix's IPIP manager).
const IPIPDevice = "tunl0"

// TunnelPolicy says which learned routes go over IPIP, as Calico's BIRD
// export filter does with krt_tunnel = "tunl0": a route whose prefix lies
// in an IPv4 pool with ipipMode Always, or CrossSubnet when its next hop
// is outside this node's subnet, is installed as
// `<prefix> via <next hop> dev tunl0 onlink`.
type TunnelPolicy struct {
	// IPIPPools are the IPv4 pools with IPIP on, sorted by CIDR.
	IPIPPools []IPIPPool
	// LocalSubnet is this node's IPv4 subnet (spec.bgp.ipv4Address with
	// its prefix length; a bare address is a /32).
	LocalSubnet netip.Prefix
}

// IPIPPool is one pool with IPIP on.
type IPIPPool struct {
	CIDR netip.Prefix
	// CrossSubnet encapsulates only towards next hops outside LocalSubnet.
	CrossSubnet bool
}

// OverIPIP reports whether the route to dst via nextHop goes over tunl0.
func (t TunnelPolicy) OverIPIP(dst netip.Prefix, nextHop netip.Addr) bool {
	if !dst.Addr().Is4() || !nextHop.Is4() {
		return false
	}
	for _, p := range t.IPIPPools {
		if p.CIDR.Bits() <= dst.Bits() && p.CIDR.Contains(dst.Addr()) {
			return !p.CrossSubnet || !t.LocalSubnet.Contains(nextHop)
		}
	}
	return false
}

// tunnelPolicy derives the policy from the pools and this node's address.
func tunnelPolicy(pools []v3.IPPool, ipv4Address string) TunnelPolicy {
	var t TunnelPolicy
	if p, err := netip.ParsePrefix(ipv4Address); err == nil {
		t.LocalSubnet = p.Masked()
	} else if a, err := netip.ParseAddr(ipv4Address); err == nil {
		t.LocalSubnet = netip.PrefixFrom(a, a.BitLen())
	}
	for _, pool := range pools {
		mode := pool.Spec.IPIPMode
		if mode != v3.IPIPModeAlways && mode != v3.IPIPModeCrossSubnet {
			continue
		}
		cidr, err := netip.ParsePrefix(pool.Spec.CIDR)
		if err != nil || !cidr.Addr().Is4() {
			continue
		}
		t.IPIPPools = append(t.IPIPPools, IPIPPool{CIDR: cidr.Masked(), CrossSubnet: mode == v3.IPIPModeCrossSubnet})
	}
	slices.SortFunc(t.IPIPPools, func(a, b IPIPPool) int { return comparePrefix(a.CIDR, b.CIDR) })
	return t
}
