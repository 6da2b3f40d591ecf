package v3

// policyKinds lists the policy and endpoint kinds. Aliases are calicoctl's
// (resourcemgr); the StagedGlobalNetworkPolicy short forms follow the
// pattern of the other staged kinds.
func policyKinds() []KindInfo {
	return []KindInfo{
		{Kind: KindTier, Plural: "tiers", Aliases: []string{"tier"},
			New: func() Resource { return NewTier() }, NewList: func() ResourceList { return NewTierList() }},
		{Kind: KindNetworkPolicy, Plural: "networkpolicies", Namespaced: true,
			Aliases: []string{"networkpolicy", "policy", "policies", "np", "pol", "pols"},
			New:     func() Resource { return NewNetworkPolicy() }, NewList: func() ResourceList { return NewNetworkPolicyList() }},
		{Kind: KindGlobalNetworkPolicy, Plural: "globalnetworkpolicies",
			Aliases: []string{"globalnetworkpolicy", "gnp", "gnps"},
			New:     func() Resource { return NewGlobalNetworkPolicy() }, NewList: func() ResourceList { return NewGlobalNetworkPolicyList() }},
		{Kind: KindStagedNetworkPolicy, Plural: "stagednetworkpolicies", Namespaced: true,
			Aliases: []string{"stagednetworkpolicy", "stagedpolicy", "stagedpolicies", "snp", "spol", "spols"},
			New:     func() Resource { return NewStagedNetworkPolicy() }, NewList: func() ResourceList { return NewStagedNetworkPolicyList() }},
		{Kind: KindStagedGlobalNetworkPolicy, Plural: "stagedglobalnetworkpolicies",
			Aliases: []string{"stagedglobalnetworkpolicy", "sgnp", "sgnps"},
			New:     func() Resource { return NewStagedGlobalNetworkPolicy() }, NewList: func() ResourceList { return NewStagedGlobalNetworkPolicyList() }},
		{Kind: KindProfile, Plural: "profiles", Aliases: []string{"profile", "pro", "pros"},
			New: func() Resource { return NewProfile() }, NewList: func() ResourceList { return NewProfileList() }},
		{Kind: KindHostEndpoint, Plural: "hostendpoints", Aliases: []string{"hostendpoint", "hep", "heps"},
			New: func() Resource { return NewHostEndpoint() }, NewList: func() ResourceList { return NewHostEndpointList() }},
		{Kind: KindWorkloadEndpoint, Plural: "workloadendpoints", Namespaced: true,
			Aliases: []string{"workloadendpoint", "wep", "weps"},
			New:     func() Resource { return NewWorkloadEndpoint() }, NewList: func() ResourceList { return NewWorkloadEndpointList() }},
		{Kind: KindNetworkSet, Plural: "networksets", Namespaced: true, Aliases: []string{"networkset", "netsets"},
			New: func() Resource { return NewNetworkSet() }, NewList: func() ResourceList { return NewNetworkSetList() }},
		{Kind: KindGlobalNetworkSet, Plural: "globalnetworksets", Aliases: []string{"globalnetworkset", "gnetsets"},
			New: func() Resource { return NewGlobalNetworkSet() }, NewList: func() ResourceList { return NewGlobalNetworkSetList() }},
	}
}
