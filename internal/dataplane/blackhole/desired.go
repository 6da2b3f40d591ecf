package blackhole

import (
	"net/netip"
	"sort"

	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

// inputs are the calc updates the blackhole manager uses: the block routes
// (this node's affine blocks) and InSync (before it nothing is removed).
const inputs = routeinput.Routes | routeinput.InSync

// localBlocks returns the sorted, masked CIDRs of the blocks affine to
// this node (IPv4 and IPv6). Unparseable CIDRs are skipped: the calc graph
// only sends CIDRs it parsed.
func localBlocks(in *routeinput.Input) []netip.Prefix {
	var out []netip.Prefix
	for r := range in.LocalBlocks() {
		p, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			continue
		}
		out = append(out, p.Masked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
