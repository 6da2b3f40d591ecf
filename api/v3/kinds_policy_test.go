package v3

import "testing"

func TestPolicyKinds_LookupByCalicoctlAliases(t *testing.T) {
	for alias, kind := range map[string]string{
		"gnp": KindGlobalNetworkPolicy, "globalnetworkpolicies": KindGlobalNetworkPolicy,
		"np": KindNetworkPolicy, "policy": KindNetworkPolicy, "pols": KindNetworkPolicy, "NetworkPolicy": KindNetworkPolicy,
		"snp": KindStagedNetworkPolicy, "sgnp": KindStagedGlobalNetworkPolicy,
		"hep": KindHostEndpoint, "weps": KindWorkloadEndpoint, "pro": KindProfile,
		"netsets": KindNetworkSet, "gnetsets": KindGlobalNetworkSet, "tiers": KindTier,
	} {
		k, err := LookupKind(alias)
		if err != nil || k.Kind != kind {
			t.Errorf("LookupKind(%q) = %q, %v; want %s", alias, k.Kind, err, kind)
		}
	}
}

func TestPolicyKinds_ScopeAndConstructors(t *testing.T) {
	namespaced := map[string]bool{KindNetworkPolicy: true, KindStagedNetworkPolicy: true, KindWorkloadEndpoint: true, KindNetworkSet: true}
	for _, k := range policyKinds() {
		if k.Namespaced != namespaced[k.Kind] {
			t.Errorf("%s: Namespaced = %v", k.Kind, k.Namespaced)
		}
		r, l := k.New(), k.NewList()
		if gvk := r.GetObjectKind().GroupVersionKind(); gvk.Kind != k.Kind || gvk.GroupVersion().String() != GroupVersionCurrent {
			t.Errorf("%s: New() has TypeMeta %v", k.Kind, gvk)
		}
		if gvk := l.GetObjectKind().GroupVersionKind(); gvk.Kind != k.Kind+"List" {
			t.Errorf("%s: NewList() has kind %q", k.Kind, gvk.Kind)
		}
	}
}
