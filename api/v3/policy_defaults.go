package v3

// DefaultPolicyTypes returns the policy types Calico infers for a policy
// whose types field is empty:
//
//	no egress rules          -> [Ingress]   (also when there are no rules at all)
//	egress rules, no ingress -> [Egress]
//	both                     -> [Ingress, Egress]
//
// A non-empty types list is returned unchanged.
func DefaultPolicyTypes(types []PolicyType, ingress, egress []Rule) []PolicyType {
	if len(types) > 0 {
		return types
	}
	switch {
	case len(egress) == 0:
		return []PolicyType{PolicyTypeIngress}
	case len(ingress) == 0:
		return []PolicyType{PolicyTypeEgress}
	default:
		return []PolicyType{PolicyTypeIngress, PolicyTypeEgress}
	}
}

// tierOrDefault returns tier, or "default" when it is empty.
func tierOrDefault(tier string) string {
	if tier == "" {
		return DefaultTierName
	}
	return tier
}

// Default sets spec.tier to "default" when empty and infers spec.types from
// the rules (see DefaultPolicyTypes). The name is left as given: Calico
// v3.30 never adds a tier prefix itself (Validate explains a missing one).
func (p *NetworkPolicy) Default() {
	p.Spec.Tier = tierOrDefault(p.Spec.Tier)
	p.Spec.Types = DefaultPolicyTypes(p.Spec.Types, p.Spec.Ingress, p.Spec.Egress)
}

// Default sets spec.tier to "default" when empty and infers spec.types from
// the rules (see DefaultPolicyTypes).
func (p *GlobalNetworkPolicy) Default() {
	p.Spec.Tier = tierOrDefault(p.Spec.Tier)
	p.Spec.Types = DefaultPolicyTypes(p.Spec.Types, p.Spec.Ingress, p.Spec.Egress)
}

// Default sets spec.tier to "default" when empty and, unless the staged
// action is Delete (whose spec must stay empty), infers spec.types from the
// rules. An empty stagedAction means Set and is left empty, as Calico
// stores it.
func (p *StagedNetworkPolicy) Default() {
	p.Spec.Tier = tierOrDefault(p.Spec.Tier)
	if p.Spec.StagedAction == StagedActionDelete {
		p.Spec.Types = nil
		return
	}
	p.Spec.Types = DefaultPolicyTypes(p.Spec.Types, p.Spec.Ingress, p.Spec.Egress)
}

// Default sets spec.tier to "default" when empty and, unless the staged
// action is Delete, infers spec.types from the rules.
func (p *StagedGlobalNetworkPolicy) Default() {
	p.Spec.Tier = tierOrDefault(p.Spec.Tier)
	if p.Spec.StagedAction == StagedActionDelete {
		p.Spec.Types = nil
		return
	}
	p.Spec.Types = DefaultPolicyTypes(p.Spec.Types, p.Spec.Ingress, p.Spec.Egress)
}
