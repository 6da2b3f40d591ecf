package loadgen

import (
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Every generated resource passes the API's validation (the datastore
// client refuses anything else), and the counts follow the spec.
func TestSpec_ObjectsAreValidAndCounted(t *testing.T) {
	specs := []Spec{
		{Node: "node-a", Endpoints: 300, Local: 30, Policies: 40},
		{Node: "bench-node", Endpoints: 50, Local: 50, Policies: 20, RulesPerPolicy: 10, AllGlobal: true, Egress: true, SelectorOr: "loaded == 'true'"},
	}
	for _, s := range specs {
		objs := s.Objects()
		kinds := map[string]int{}
		for _, o := range objs {
			kind := o.GetObjectKind().GroupVersionKind().Kind
			kinds[kind]++
			v, ok := o.(interface{ Validate() error })
			if !ok {
				t.Fatalf("%s has no Validate", kind)
			}
			if err := v.Validate(); err != nil {
				t.Errorf("%s %s/%s: %v", kind, o.GetNamespace(), o.GetName(), err)
			}
		}
		if kinds[v3.KindWorkloadEndpoint] != s.Endpoints || kinds[v3.KindProfile] != s.namespaces() {
			t.Errorf("spec %+v: kinds %v", s, kinds)
		}
		if got := kinds[v3.KindNetworkPolicy] + kinds[v3.KindGlobalNetworkPolicy]; got != s.Policies {
			t.Errorf("spec %+v: %d policies", s, got)
		}
		if s.AllGlobal && kinds[v3.KindNetworkPolicy] != 0 {
			t.Errorf("AllGlobal spec produced %d NetworkPolicies", kinds[v3.KindNetworkPolicy])
		}
		ups, err := Updates(objs)
		if err != nil || len(ups) != len(objs) || ups[0].UpdateType != datastore.UpdateTypeNew || len(ups[0].Value) == 0 {
			t.Errorf("Updates: %d updates, err %v", len(ups), err)
		}
	}
}

// Rules split between ingress and egress only when asked, and every
// policy has the requested number of rules.
func TestSpec_PolicyRules(t *testing.T) {
	count := func(p v3.Resource) (in, out int) {
		switch p := p.(type) {
		case *v3.GlobalNetworkPolicy:
			return len(p.Spec.Ingress), len(p.Spec.Egress)
		case *v3.NetworkPolicy:
			return len(p.Spec.Ingress), len(p.Spec.Egress)
		}
		t.Fatalf("policy of type %T", p)
		return 0, 0
	}
	if in, out := count(Spec{RulesPerPolicy: 10, Egress: true}.Policy(3)); in != 5 || out != 5 {
		t.Errorf("Egress spec: %d ingress, %d egress rules; want 5 and 5", in, out)
	}
	if in, out := count(Spec{}.Policy(4)); in != 2 || out != 0 {
		t.Errorf("default spec: %d ingress, %d egress rules; want 2 and 0", in, out)
	}
}
