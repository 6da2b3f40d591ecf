package v3

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDefaultPolicyTypes_InfersFromRules(t *testing.T) {
	in, eg := []Rule{{Action: Allow}}, []Rule{{Action: Deny}}
	for _, tc := range []struct {
		name            string
		types           []PolicyType
		ingress, egress []Rule
		want            []PolicyType
	}{
		{"no rules", nil, nil, nil, []PolicyType{PolicyTypeIngress}},
		{"ingress only", nil, in, nil, []PolicyType{PolicyTypeIngress}},
		{"egress only", nil, nil, eg, []PolicyType{PolicyTypeEgress}},
		{"both", nil, in, eg, []PolicyType{PolicyTypeIngress, PolicyTypeEgress}},
		{"explicit kept", []PolicyType{PolicyTypeEgress}, in, nil, []PolicyType{PolicyTypeEgress}},
	} {
		if got := DefaultPolicyTypes(tc.types, tc.ingress, tc.egress); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPolicyDefault_SetsTierAndTypesButNotTheName(t *testing.T) {
	p := NewGlobalNetworkPolicy()
	p.Name = "block"
	p.Spec.Egress = []Rule{{Action: Deny}}
	p.Default()
	if p.Spec.Tier != DefaultTierName || !reflect.DeepEqual(p.Spec.Types, []PolicyType{PolicyTypeEgress}) || p.Name != "block" {
		t.Fatalf("after Default: name %q tier %q types %v", p.Name, p.Spec.Tier, p.Spec.Types)
	}
	first := p.DeepCopy()
	p.Default()
	if !reflect.DeepEqual(first, p) {
		t.Fatalf("Default is not idempotent")
	}

	sp := NewStagedNetworkPolicy()
	sp.Spec.StagedAction = StagedActionDelete
	sp.Spec.Types = []PolicyType{PolicyTypeIngress}
	sp.Default()
	if sp.Spec.Types != nil || sp.Spec.StagedAction != StagedActionDelete {
		t.Fatalf("staged Delete: types %v action %q; want nil types", sp.Spec.Types, sp.Spec.StagedAction)
	}
	sp2 := NewStagedGlobalNetworkPolicy()
	sp2.Default()
	if sp2.Spec.StagedAction != "" || !reflect.DeepEqual(sp2.Spec.Types, []PolicyType{PolicyTypeIngress}) {
		t.Fatalf("staged Set: action %q types %v; want empty action (Calico stores none) and [Ingress]", sp2.Spec.StagedAction, sp2.Spec.Types)
	}
}

func TestTierDefault_FixedOrdersAndDeny(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wantOrder *float64
	}{
		{"default", ptrTo(DefaultTierOrder)},
		{"adminnetworkpolicy", ptrTo(AdminNetworkPolicyTierOrder)},
		{"baselineadminnetworkpolicy", ptrTo(BaselineAdminNetworkPolicyTierOrder)},
		{"security", nil},
	} {
		tr := NewTier()
		tr.Name = tc.name
		tr.Default()
		if !reflect.DeepEqual(tr.Spec.Order, tc.wantOrder) || tr.Spec.DefaultAction == nil || *tr.Spec.DefaultAction != Deny {
			t.Errorf("%s: order %v action %v", tc.name, tr.Spec.Order, tr.Spec.DefaultAction)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestRule_EncodesLikeCalico pins the JSON form of the rule schema: ports as
// numbers or strings, protocols as names or numbers, the source/destination
// objects always present (they are non-pointer structs in Calico too).
func TestRule_EncodesLikeCalico(t *testing.T) {
	const in = `{"action":"Allow","protocol":6,"notProtocol":"UDPLite","source":{"nets":["10.0.0.0/8"],"notPorts":["http"]},"destination":{"ports":[80,"8000:8080"],"serviceAccounts":{"names":["api"]}}}`
	var r Rule
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip changed the encoding:\n got %s\nwant %s", out, in)
	}
	empty, _ := json.Marshal(Rule{Action: Deny})
	if string(empty) != `{"action":"Deny","source":{},"destination":{}}` {
		t.Fatalf("empty rule encodes as %s", empty)
	}
}
