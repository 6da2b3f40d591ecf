package calc

import (
	"sort"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// tierClass selects which policies go into a list of tiers.
type tierClass int

const (
	classNormal tierClass = iota
	classUntracked
	classPreDNAT
	classForward
)

// classOf says which tier list a policy belongs to on a host endpoint
// (Calico's resolver: doNotTrack, else preDNAT, else normal; normal
// policies with applyOnForward also go to the forward list).
func classOf(pd *policyData, c tierClass) bool {
	switch c {
	case classUntracked:
		return pd.flags.doNotTrack
	case classPreDNAT:
		return !pd.flags.doNotTrack && pd.flags.preDNAT
	case classForward:
		return !pd.flags.doNotTrack && !pd.flags.preDNAT && pd.flags.applyOnForward
	}
	return !pd.flags.doNotTrack && !pd.flags.preDNAT
}

// endpointPolicies returns the policies selecting a local endpoint.
func (g *Graph) endpointPolicies(it *item) []*policyData {
	var pols []*policyData
	seen := map[policyKey]bool{}
	for uid := range it.pols {
		for pk := range g.polSels[uid].policies {
			if !seen[pk] {
				seen[pk] = true
				pols = append(pols, g.policies[pk])
			}
		}
	}
	return pols
}

// tiersFor groups the endpoint's policies of one class into ordered tiers.
func (g *Graph) tiersFor(pols []*policyData, c tierClass) []TierInfo {
	byTier := map[string][]*policyData{}
	for _, pd := range pols {
		if classOf(pd, c) {
			byTier[pd.tier] = append(byTier[pd.tier], pd)
		}
	}
	if len(byTier) == 0 {
		return nil
	}
	names := make([]string, 0, len(byTier))
	for n := range byTier {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := g.tierOf(names[i]), g.tierOf(names[j])
		return lessOrder(a.order, names[i], b.order, names[j])
	})
	tiers := make([]TierInfo, 0, len(names))
	for _, n := range names {
		ps := byTier[n]
		sort.Slice(ps, func(i, j int) bool {
			return lessOrder(ps[i].order, ps[i].id().String(), ps[j].order, ps[j].id().String())
		})
		ti := TierInfo{Name: n, DefaultAction: g.tierOf(n).action}
		for _, pd := range ps {
			if pd.ingress {
				ti.IngressPolicies = append(ti.IngressPolicies, pd.id())
			}
			if pd.egress && c != classPreDNAT {
				ti.EgressPolicies = append(ti.EgressPolicies, pd.id())
			}
		}
		tiers = append(tiers, ti)
	}
	return tiers
}

// workloadEndpoint computes the dataplane view of a local workload endpoint.
func (g *Graph) workloadEndpoint(it *item) *WorkloadEndpoint {
	w := it.wep
	return &WorkloadEndpoint{
		InterfaceName: w.iface, MAC: w.mac, IPv4Nets: w.v4, IPv6Nets: w.v6,
		Profiles: w.profiles, Tiers: g.tiersFor(g.endpointPolicies(it), classNormal),
		Labels: it.labels, AllowSpoofedSourcePrefixes: w.spoof,
	}
}

// hostEndpoint computes the dataplane view of a local host endpoint.
func (g *Graph) hostEndpoint(it *item) *HostEndpoint {
	h := it.hep
	pols := g.endpointPolicies(it)
	return &HostEndpoint{
		InterfaceName: h.iface, ExpectedIPv4s: h.v4, ExpectedIPv6s: h.v6, Profiles: h.profiles,
		Tiers:          g.tiersFor(pols, classNormal),
		UntrackedTiers: g.tiersFor(pols, classUntracked),
		PreDNATTiers:   g.tiersFor(pols, classPreDNAT),
		ForwardTiers:   g.tiersFor(pols, classForward),
		Labels:         it.labels,
	}
}

// markAllLocalEndpoints marks every local endpoint dirty (a tier changed).
func (g *Graph) markAllLocalEndpoints() {
	for key, it := range g.items {
		if it.local {
			g.dirtyEndpoints[key] = struct{}{}
		}
	}
}

// tierDefaultAction returns a tier's default action from its spec.
func tierDefaultAction(t *v3.Tier) v3.Action {
	if t.Spec.DefaultAction != nil && *t.Spec.DefaultAction == v3.Pass {
		return v3.Pass
	}
	return v3.Deny
}
