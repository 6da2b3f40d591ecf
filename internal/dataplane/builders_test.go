package dataplane

import (
	"context"
	"testing"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// Builders of calc output for tests: what the calc graph would emit for
// the policies in each case, with readable IP set IDs.

func u8(v uint8) *uint8 { return &v }
func ip(v int) *int     { return &v }

const (
	protoTCP  = 6
	protoUDP  = 17
	protoICMP = 1
)

func wl(ns, name, iface, addr string, tiers []calc.TierInfo, profiles ...string) calc.WorkloadEndpointUpdate {
	return calc.WorkloadEndpointUpdate{
		ID: calc.WorkloadEndpointID{Namespace: ns, Name: name},
		Endpoint: &calc.WorkloadEndpoint{
			InterfaceName: iface, MAC: "ee:ee:ee:ee:ee:ee", IPv4Nets: []string{addr + "/32"},
			Profiles: profiles, Tiers: tiers,
		},
	}
}

func tierIn(name string, def v3.Action, ids ...calc.PolicyID) calc.TierInfo {
	return calc.TierInfo{Name: name, DefaultAction: def, IngressPolicies: ids}
}

func tierOut(name string, def v3.Action, ids ...calc.PolicyID) calc.TierInfo {
	return calc.TierInfo{Name: name, DefaultAction: def, EgressPolicies: ids}
}

func pid(tier, ns, name string) calc.PolicyID {
	return calc.PolicyID{Tier: tier, Namespace: ns, Name: name}
}

func pol(id calc.PolicyID, in, out []calc.Rule) calc.ActivePolicyUpdate {
	return calc.ActivePolicyUpdate{ID: id, Policy: &calc.Policy{InboundRules: in, OutboundRules: out}}
}

func allowAllProfile(name string) calc.ActiveProfileUpdate {
	return calc.ActiveProfileUpdate{Name: name, Profile: &calc.Profile{
		InboundRules: []calc.Rule{{Action: v3.Allow}}, OutboundRules: []calc.Rule{{Action: v3.Allow}},
	}}
}

func set(id string, members ...string) calc.IPSetUpdate {
	return calc.IPSetUpdate{ID: id, Type: calc.IPSetNets, Members: members}
}

func namedPortSet(id string, members ...string) calc.IPSetUpdate {
	return calc.IPSetUpdate{ID: id, Type: calc.IPSetNetPorts, Members: members}
}

func rules(rs ...calc.Rule) []calc.Rule { return rs }

// newFakeManager returns a manager over a knftables fake of inet calico.
func newFakeManager(t testing.TB, cfg PolicyConfig) (*PolicyManager, *knftables.Fake) {
	t.Helper()
	fake := knftables.NewFake(knftables.InetFamily, TableName)
	return NewPolicyManager(fake, cfg), fake
}

func mustApply(t testing.TB, m *PolicyManager) {
	t.Helper()
	if err := m.Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}
