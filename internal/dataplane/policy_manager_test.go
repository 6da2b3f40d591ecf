package dataplane

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// baseUpdates is a namespace profile and two workloads, web with one
// ingress policy allowing from an IP set.
func baseUpdates() []calc.Update {
	return []calc.Update{
		allowAllProfile("kns.prod"),
		set("s:app-client", "10.244.1.3/32"),
		pol(allowWeb, rules(calc.Rule{Action: v3.Allow, SrcIPSetIDs: []string{"s:app-client"}}), nil),
		wl("prod", "client", "caliclient", "10.244.1.3", nil, "kns.prod"),
		wl("prod", "web", "caliweb", "10.244.1.2", []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)}, "kns.prod"),
		calc.InSync{},
	}
}

func TestPolicyManager_SetDeltaChangesOnlyElements(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	mustApply(t, m)

	m.OnUpdate(calc.IPSetDelta{ID: "s:app-client", Added: []string{"10.244.1.7/32"}, Removed: []string{"10.244.1.3/32"}})
	mustApply(t, m)
	res := m.Stats().LastResult
	if res.ChainsWritten != 0 || res.ElementsAdded != 1 || res.ElementsRemoved != 1 || res.Operations != 2 {
		t.Errorf("set delta: got %+v, want exactly one element added and one removed, no chain rewritten", res)
	}
	if fake.Table.Sets["s4-s.app-client"].FindElement("10.244.1.7") == nil || fake.Table.Sets["s4-s.app-client"].FindElement("10.244.1.3") != nil {
		t.Errorf("set s4-s.app-client does not hold exactly the new member:\n%s", fake.Dump())
	}

	// Nothing changed: no transaction at all.
	m.OnUpdate(calc.IPSetDelta{ID: "s:app-client"})
	mustApply(t, m)
	if ops := m.Stats().LastResult.Operations; ops != 0 {
		t.Errorf("no-op update ran %d operations, want 0", ops)
	}
}

func TestPolicyManager_PolicyChangeRewritesOnlyItsChain(t *testing.T) {
	m, _ := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	mustApply(t, m)
	m.OnUpdate(pol(allowWeb, rules(calc.Rule{Action: v3.Deny, SrcIPSetIDs: []string{"s:app-client"}}), nil))
	mustApply(t, m)
	if got := m.Stats().LastResult.ChainsWritten; got != 1 {
		t.Errorf("changing one policy's rules rewrote %d chains, want 1 (pi-default/prod/allow-web)", got)
	}
}

func TestPolicyManager_NothingRemovedBeforeInSync(t *testing.T) {
	fake := knftables.NewFake(knftables.InetFamily, TableName)
	// A previous run left a policy chain, a set and a workload behind.
	prev := NewPolicyManager(fake, PolicyConfig{})
	prev.OnUpdates(baseUpdates())
	prev.OnUpdate(wl("prod", "old", "caliold", "10.244.1.99", nil, "kns.prod"))
	mustApply(t, prev)

	m := NewPolicyManager(fake, PolicyConfig{})
	m.OnUpdate(allowAllProfile("kns.prod"))
	m.OnUpdate(wl("prod", "client", "caliclient", "10.244.1.3", nil, "kns.prod"))
	mustApply(t, m)
	for _, c := range []string{"tw-caliold", "pi-default/prod/allow-web", "tw-caliweb"} {
		if fake.Table.Chains[c] == nil {
			t.Errorf("chain %s removed before InSync", c)
		}
	}
	if fake.Table.Maps[mapToWL].FindElement(`"caliold"`) == nil {
		t.Error("dispatch entry for caliold removed before InSync")
	}

	m.OnUpdate(calc.InSync{})
	mustApply(t, m)
	for _, c := range []string{"tw-caliold", "pi-default/prod/allow-web", "tw-caliweb"} {
		if fake.Table.Chains[c] != nil {
			t.Errorf("chain %s still there after InSync", c)
		}
	}
	if fake.Table.Sets["s4-s.app-client"] != nil {
		t.Error("set s4-s.app-client still there after InSync")
	}
	if fake.Table.Maps[mapToWL].FindElement(`"caliold"`) != nil {
		t.Error("dispatch entry for caliold still there after InSync")
	}
}

func TestPolicyManager_ResyncRepairsDrift(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	mustApply(t, m)
	want := fake.Dump()

	// Someone deletes a rule, a set element and a dispatch entry by hand.
	tx := fake.NewTransaction()
	rule := fake.Table.Chains["pi-default/prod/allow-web"].Rules[0]
	tx.Delete(&knftables.Rule{Chain: "pi-default/prod/allow-web", Handle: rule.Handle})
	tx.Delete(&knftables.Element{Set: "s4-s.app-client", Key: []string{"10.244.1.3"}})
	tx.Delete(&knftables.Element{Map: mapToWL, Key: []string{`"caliweb"`}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}

	// Without a resync the manager trusts its cache: nothing to do.
	mustApply(t, m)
	if fake.Dump() == want {
		t.Fatal("test setup: hand edits did not change the table")
	}
	m.Resync()
	mustApply(t, m)
	if got := fake.Dump(); got != want {
		t.Errorf("after resync the table was not restored:\n%s", lineDiff(want, got))
	}
	if d := m.Stats().DriftRepairs; d != 3 {
		t.Errorf("drift repairs = %d, want 3 (one chain, one set, one map)", d)
	}
}

func TestPolicyManager_RestartDoesNotRewriteUnchangedTable(t *testing.T) {
	fake := knftables.NewFake(knftables.InetFamily, TableName)
	first := NewPolicyManager(fake, PolicyConfig{})
	first.OnUpdates(baseUpdates())
	mustApply(t, first)

	second := NewPolicyManager(fake, PolicyConfig{})
	second.OnUpdates(baseUpdates())
	mustApply(t, second)
	if ops := second.Stats().LastResult.Operations; ops != 0 {
		t.Errorf("a restarted manager with the same desired state ran %d operations, want 0", ops)
	}
}

func TestPolicyManager_ConfigSetsEndpointToHostAndLogPrefix(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	m.OnUpdate(pol(allowWeb, rules(calc.Rule{Action: v3.Log}), nil))
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{DefaultEndpointToHostAction: "Accept", LogPrefix: "tricolor"}})
	mustApply(t, m)
	dump := fake.Dump()
	for _, want := range []string{`iifname "cali*" accept`, `log prefix "tricolor: "`} {
		if !strings.Contains(dump, want) {
			t.Errorf("table lacks %q:\n%s", want, dump)
		}
	}

	// The fields are removed from the configuration: back to the defaults
	// (not the last values seen).
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{}})
	mustApply(t, m)
	dump = fake.Dump()
	for _, want := range []string{`iifname "cali*" counter drop`, `log prefix "calico-packet: "`} {
		if !strings.Contains(dump, want) {
			t.Errorf("after the configuration was emptied the table lacks %q:\n%s", want, dump)
		}
	}
}

// TestPolicyManager_IPv6SupportOffAndBackOn switches ipv6Support off and on
// again on a running manager: the IPv6 sets and rules go and come back.
func TestPolicyManager_IPv6SupportOffAndBackOn(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	m.OnUpdate(set("s:app-client", "10.244.1.3/32", "fd00::3/128"))
	m.OnUpdate(pol(allowWeb, rules(calc.Rule{Action: v3.Allow, SrcIPSetIDs: []string{"s:app-client"}}), nil))
	ipv6 := []string{"s6-s.app-client", "ip6 saddr @s6-s.app-client", "fd00::3"}
	has := func(when string, want bool) {
		t.Helper()
		dump := fake.Dump()
		for _, s := range ipv6 {
			if strings.Contains(dump, s) != want {
				t.Errorf("%s: table contains %q = %v, want %v", when, s, !want, want)
			}
		}
		if !strings.Contains(dump, "ip saddr @s4-s.app-client") {
			t.Errorf("%s: the IPv4 rule is missing", when)
		}
	}
	mustApply(t, m)
	has("default (ipv6Support unset)", true)
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{IPv6Support: new(false)}})
	mustApply(t, m)
	has("ipv6Support false", false)
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{}})
	mustApply(t, m)
	has("ipv6Support removed again", true)
}

// TestPolicyManager_StagedPolicyChangesNothing runs api/v3 objects through
// the real calc graph: a staged policy selecting the web pod renders the
// same table as no policy at all.
func TestPolicyManager_StagedPolicyChangesNothing(t *testing.T) {
	render := func(extra ...v3.Resource) string {
		g := calc.New(calc.Config{NodeName: nodeName})
		var ups []datastore.Update
		for _, o := range append(baseObjects(), extra...) {
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: datastore.Key{
				Kind: o.GetObjectKind().GroupVersionKind().Kind, Namespace: o.GetNamespace(), Name: o.GetName()}, Value: b},
				UpdateType: datastore.UpdateTypeNew})
		}
		g.OnUpdates(ups)
		g.OnStatusUpdated(datastore.InSync)
		m, fake := newFakeManager(t, PolicyConfig{})
		m.OnUpdates(g.Flush())
		mustApply(t, m)
		return fake.Dump()
	}
	staged := v3.NewStagedNetworkPolicy()
	staged.Namespace, staged.Name = "a", "staged-deny"
	staged.Spec.Selector = "role == 'web'"
	staged.Spec.Types = ingress
	enforced := netpol("a", "enforced-deny", "role == 'web'", ingress, nil, nil)

	base := render()
	if got := render(staged); got != base {
		t.Errorf("a staged policy changed the table:\n%s", lineDiff(base, got))
	}
	if got := render(enforced); got == base {
		t.Error("an enforced policy did not change the table (the comparison proves nothing)")
	}
}

func TestPolicyManager_PeriodicRefreshRereadsTheTable(t *testing.T) {
	now := time.Unix(1000, 0)
	m, fake := newFakeManager(t, PolicyConfig{RefreshInterval: time.Minute, Now: func() time.Time { return now }})
	m.OnUpdates(baseUpdates())
	mustApply(t, m)
	tx := fake.NewTransaction()
	tx.Delete(&knftables.Element{Set: "s4-s.app-client", Key: []string{"10.244.1.3"}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}

	now = now.Add(30 * time.Second)
	mustApply(t, m)
	if fake.Table.Sets["s4-s.app-client"].FindElement("10.244.1.3") != nil {
		t.Fatal("table re-read before the refresh interval")
	}
	now = now.Add(31 * time.Second)
	mustApply(t, m)
	if fake.Table.Sets["s4-s.app-client"].FindElement("10.244.1.3") == nil {
		t.Error("deleted element not restored one refresh interval later")
	}
	if s := m.Stats(); s.Resyncs != 1 || s.DriftRepairs != 1 {
		t.Errorf("stats %+v: want 1 resync and 1 drift repair", s)
	}
}

func TestPolicyManager_EndpointNamingUnknownPolicyFailsClosed(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdate(allowAllProfile("kns.prod"))
	m.OnUpdate(wl("prod", "web", "caliweb", "10.244.1.2", []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)}, "kns.prod", "kns.absent"))
	mustApply(t, m)
	dump := fake.Dump()
	for _, want := range []string{
		`tw-caliweb counter drop comment "to wep prod/web: policy prod/allow-web not received: fail closed`,
		`tw-caliweb counter drop comment "to wep prod/web: profile kns.absent not received: fail closed`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("table lacks %q:\n%s", want, dump)
		}
	}
}

func TestPolicyManager_SetWithCIDRBecomesIntervalSet(t *testing.T) {
	m, fake := newFakeManager(t, PolicyConfig{})
	m.OnUpdates(baseUpdates())
	mustApply(t, m)
	if s := fake.Table.Sets["s4-s.app-client"]; s == nil || len(s.Flags) != 0 {
		t.Fatalf("a set of single addresses should be a plain set s4-s.app-client:\n%s", fake.Dump())
	}

	// A network set's CIDR joins: the set becomes an interval set with a
	// new name, and the policy chain follows it.
	m.OnUpdate(calc.IPSetDelta{ID: "s:app-client", Added: []string{"192.168.0.0/16"}})
	mustApply(t, m)
	dump := fake.Dump()
	if fake.Table.Sets["n4-s.app-client"] == nil || fake.Table.Sets["s4-s.app-client"] != nil {
		t.Errorf("want interval set n4-s.app-client replacing s4-s.app-client:\n%s", dump)
	}
	if !strings.Contains(dump, "ip saddr @n4-s.app-client") {
		t.Errorf("policy chain does not use the interval set:\n%s", dump)
	}
	if fake.Table.Sets["s6-s.app-client"] == nil {
		t.Error("the IPv6 side (no CIDRs) should stay a plain set")
	}

	// And back.
	m.OnUpdate(calc.IPSetDelta{ID: "s:app-client", Removed: []string{"192.168.0.0/16"}})
	mustApply(t, m)
	if fake.Table.Sets["s4-s.app-client"] == nil || fake.Table.Sets["n4-s.app-client"] != nil {
		t.Errorf("want plain set s4-s.app-client back:\n%s", fake.Dump())
	}
}
