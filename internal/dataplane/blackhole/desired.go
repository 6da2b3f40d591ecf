package blackhole

import (
	"net/netip"
	"sort"

	"github.com/tricolor-net/tricolor/internal/calc"
)

// localBlocks returns the sorted, masked CIDRs of the blocks affine to
// node among routes (IPv4 and IPv6). Unparseable CIDRs are skipped: the
// calc graph only sends CIDRs it parsed.
func localBlocks(node string, routes map[string]calc.Route) []netip.Prefix {
	var out []netip.Prefix
	for _, r := range routes {
		if r.Type != calc.RouteLocalBlock || r.Node != node {
			continue
		}
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			continue
		}
		out = append(out, p.Masked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
