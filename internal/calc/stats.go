package calc

// Stats are the graph's internal counts, for debugging and for tests that
// check reference counting: after every input has been removed (and a
// Flush), every count is zero.
type Stats struct {
	// Items are labelled items: endpoints anywhere plus network sets.
	Items int
	// LocalEndpoints are this node's workload and host endpoints.
	LocalEndpoints int
	// Profiles, Tiers and Policies are stored inputs.
	Profiles, Tiers, Policies int
	// ProfileItemRefs counts item→profile inheritance links;
	// LocalProfileRefs counts local endpoint→profile uses.
	ProfileItemRefs, LocalProfileRefs int
	// LabelValues are distinct label key=value pairs in the label index.
	LabelValues int
	// PolicySelectors are distinct policy selectors; IPSetSelectors distinct
	// selectors behind active IP sets.
	PolicySelectors, IPSetSelectors int
	// IPSets are active sets; IPSetRefs the references rules hold on them;
	// IPSetMembers the sum of their sizes.
	IPSets, IPSetRefs, IPSetMembers int
	// ActivePolicies and ActiveProfiles hold references on IP sets.
	ActivePolicies, ActiveProfiles int
	// SentPolicies, SentProfiles and SentEndpoints are what the consumer has.
	SentPolicies, SentProfiles, SentEndpoints int
	// Pools, Blocks, Nodes and Routes are routing state.
	Pools, Blocks, Nodes, Routes int
}

// Stats returns the current counts.
func (g *Graph) Stats() Stats {
	s := Stats{
		Items: len(g.items), LabelValues: len(g.labelIndex), Profiles: len(g.profiles), Tiers: len(g.tiers), Policies: len(g.policies),
		PolicySelectors: len(g.polSels), IPSetSelectors: len(g.ipsetSels),
		IPSets: len(g.ipsets), ActivePolicies: len(g.policyRefs), ActiveProfiles: len(g.profileRefs),
		SentPolicies: len(g.sentPolicies), SentProfiles: len(g.sentProfiles),
		SentEndpoints: len(g.sentWEPs) + len(g.sentHEPs),
		Pools:         len(g.pools), Blocks: len(g.blocks), Nodes: len(g.nodes), Routes: len(g.sentRoutes),
	}
	for _, it := range g.items {
		if it.local && it.key.kind != kindNetSet {
			s.LocalEndpoints++
		}
	}
	for _, refs := range g.profileItems {
		s.ProfileItemRefs += len(refs)
	}
	for _, n := range g.localProfileRefs {
		s.LocalProfileRefs += n
	}
	for _, set := range g.ipsets {
		s.IPSetRefs += set.refs
		s.IPSetMembers += len(set.members)
	}
	return s
}
