package nft

import (
	"context"
	"testing"

	"sigs.k8s.io/knftables"
)

func fakeTable() *knftables.Fake { return knftables.NewFake(knftables.InetFamily, "calico") }

// sample is a base chain dispatching through a verdict map to a chain that
// uses a set.
func sample(members ...string) *Table {
	t := NewTable()
	t.AddChain("filter-forward", &BaseChain{Type: knftables.FilterType, Hook: knftables.ForwardHook, Priority: knftables.FilterPriority}).
		Add("iifname vmap @dispatch", "dispatch")
	t.Maps["dispatch"] = &Map{Name: "dispatch", Type: "ifname : verdict", Elements: map[string]string{"cali1": "goto ep-cali1"}}
	t.AddChain("ep-cali1", nil).Add("ip saddr @allowed accept", "policy p rule 0")
	t.Chains["ep-cali1"].Add("drop", "end")
	s := &Set{Name: "allowed", Type: "ipv4_addr", Interval: true, Elements: map[string]struct{}{}}
	for _, m := range members {
		s.Elements[ElementKey(m)] = struct{}{}
	}
	t.Sets["allowed"] = s
	return t
}

func mustSync(t *testing.T, r *Reconciler, want *Table, prune bool) Result {
	t.Helper()
	res, err := r.Sync(context.Background(), want, prune)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return res
}

func TestReconciler_SecondSyncOfSameTableIsNoOp(t *testing.T) {
	fake := fakeTable()
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	if res := mustSync(t, r, sample("10.0.0.1/32"), true); res.ChainsWritten != 2 || res.ElementsAdded != 2 {
		t.Errorf("first sync: %+v, want 2 chains written and 2 elements (set + map) added", res)
	}
	if res := mustSync(t, r, sample("10.0.0.1/32"), true); res.Operations != 0 {
		t.Errorf("second sync ran %d operations, want 0", res.Operations)
	}
	// A fresh reconciler (restart) reads the table back and agrees.
	r2 := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	if res := mustSync(t, r2, sample("10.0.0.1/32"), true); res.Operations != 0 {
		t.Errorf("sync after restart ran %d operations, want 0", res.Operations)
	}
}

func TestReconciler_ChangedChainIsFlushedAndRefilledAlone(t *testing.T) {
	fake := fakeTable()
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	mustSync(t, r, sample(), true)
	want := sample()
	want.Chains["ep-cali1"].Rules[0].Text = "ip saddr @allowed tcp dport 80 accept"
	if res := mustSync(t, r, want, true); res.ChainsWritten != 1 {
		t.Errorf("one changed chain: %d chains written, want 1", res.ChainsWritten)
	}
	if got := fake.Table.Chains["ep-cali1"].Rules[0].Rule; got != "ip saddr @allowed tcp dport 80 accept" {
		t.Errorf("rule not replaced: %q", got)
	}
	if n := len(fake.Table.Chains["ep-cali1"].Rules); n != 2 {
		t.Errorf("chain has %d rules after refill, want 2", n)
	}
}

func TestReconciler_PruneRemovesWhatIsNoLongerWanted(t *testing.T) {
	fake := fakeTable()
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	mustSync(t, r, sample("10.0.0.1/32", "10.0.0.2/32"), true)
	want := NewTable()
	want.AddChain("filter-forward", &BaseChain{Type: knftables.FilterType, Hook: knftables.ForwardHook, Priority: knftables.FilterPriority})

	if res := mustSync(t, r, want, false); res.ChainsDeleted+res.SetsDeleted+res.ElementsRemoved != 0 {
		t.Errorf("sync without prune removed things: %+v", res)
	}
	if fake.Table.Chains["ep-cali1"] == nil || fake.Table.Sets["allowed"] == nil {
		t.Fatal("objects removed without prune")
	}
	res := mustSync(t, r, want, true)
	if res.ChainsDeleted != 1 || res.SetsDeleted != 2 {
		t.Errorf("prune: %+v, want 1 chain and 2 sets/maps deleted", res)
	}
	if fake.Table.Chains["ep-cali1"] != nil || fake.Table.Sets["allowed"] != nil || fake.Table.Maps["dispatch"] != nil {
		t.Errorf("objects left after prune:\n%s", fake.Dump())
	}
}

func TestReconciler_FailedTransactionRereadsBeforeNextSync(t *testing.T) {
	fake := fakeTable()
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	mustSync(t, r, sample(), true)
	bad := sample()
	bad.Chains["ep-cali1"].Add("ip saddr @missing-set accept", "refers to a set that does not exist")
	if _, err := r.Sync(context.Background(), bad, true); err == nil {
		t.Fatal("a rule using a missing set was accepted")
	}
	if r.actual != nil {
		t.Error("cache kept after a failed transaction")
	}
	if res := mustSync(t, r, sample(), true); res.Operations != 0 {
		t.Errorf("after the failure the table was unchanged, yet %d operations ran", res.Operations)
	}
}

func TestReadBack_CountsDrift(t *testing.T) {
	fake := fakeTable()
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	mustSync(t, r, sample("10.0.0.1/32"), true)
	tx := fake.NewTransaction()
	tx.Flush(&knftables.Chain{Name: "ep-cali1"})
	tx.Delete(&knftables.Element{Set: "allowed", Key: []string{"10.0.0.1"}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	drift, err := r.ReadBack(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if drift != 2 {
		t.Errorf("drift = %d, want 2 (chain ep-cali1, set allowed)", drift)
	}
	if res := mustSync(t, r, sample("10.0.0.1/32"), true); res.ChainsWritten != 1 || res.ElementsAdded != 1 {
		t.Errorf("repair: %+v, want the chain rewritten and the element re-added", res)
	}
}

func TestRule_CommentIsBoundedAndCarriesHash(t *testing.T) {
	long := Rule{Text: "accept", Comment: string(make([]byte, 300))}
	if c := long.fullComment(); len(c) > maxComment {
		t.Errorf("comment of %d bytes exceeds nft's %d", len(c), maxComment)
	}
	a := Rule{Text: "accept", Comment: "policy x"}.fullComment()
	b := Rule{Text: "drop", Comment: "policy x"}.fullComment()
	if a == b {
		t.Error("rules with different text share a comment: changes would go unnoticed")
	}
}

func TestElementKey_MatchesHowNftListsElements(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1/32": "10.0.0.1", "10.0.0.0/8": "10.0.0.0/8", "fd00::1/128": "fd00::1", "fd00::/64": "fd00::/64",
	} {
		if got := ElementKey(in); got != want {
			t.Errorf("ElementKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ElementKey("10.0.0.1", "tcp", "80"); got != "10.0.0.1 . tcp . 80" {
		t.Errorf("concatenation: %q", got)
	}
}

func TestReconciler_StaleElementsGoOnceInSyncEvenForUnchangedSets(t *testing.T) {
	fake := fakeTable()
	mustSync(t, NewReconciler(fake, knftables.InetFamily, "calico", nil), sample("10.0.0.1/32", "10.0.0.9/32"), true)
	// Restart: the same set object is synced before and after in-sync.
	r := NewReconciler(fake, knftables.InetFamily, "calico", nil)
	want := sample("10.0.0.1/32")
	mustSync(t, r, want, false)
	if fake.Table.Sets["allowed"].FindElement("10.0.0.9") == nil {
		t.Fatal("stale element removed before in-sync")
	}
	mustSync(t, r, want, true)
	if fake.Table.Sets["allowed"].FindElement("10.0.0.9") != nil {
		t.Error("stale element kept after in-sync")
	}
}
