package nft

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/knftables"
)

// gatedLister is a knftables fake that also lists its table as
// `nft -j list table` would (the subset parseTableJSON reads). While gate
// is set, a listing takes its snapshot at once but returns only when the
// gate is closed — a slow read that transactions overlap.
type gatedLister struct {
	*knftables.Fake
	gate  chan struct{}
	taken chan struct{} // receives once per gated listing, after the snapshot
}

func (g *gatedLister) ListTableJSON(ctx context.Context) ([]byte, bool, error) {
	if g.Table == nil {
		return nil, false, nil
	}
	var objs []map[string]any
	objs = append(objs, map[string]any{"table": map[string]any{"family": "inet", "name": "calico"}})
	for name, c := range g.Table.Chains {
		objs = append(objs, map[string]any{"chain": map[string]any{"name": name}})
		for _, r := range c.Rules {
			objs = append(objs, map[string]any{"rule": map[string]any{"chain": name, "comment": *r.Comment}})
		}
	}
	for name, s := range g.Table.Sets {
		elems := []any{}
		for _, e := range s.Elements {
			elems = append(elems, e.Key[0])
		}
		objs = append(objs, map[string]any{"set": map[string]any{"name": name, "elem": elems}})
	}
	for name, m := range g.Table.Maps {
		elems := []any{}
		for _, e := range m.Elements {
			verb, target, _ := strings.Cut(e.Value[0], " ")
			elems = append(elems, []any{e.Key[0], map[string]any{verb: map[string]any{"target": target}}})
		}
		objs = append(objs, map[string]any{"map": map[string]any{"name": name, "elem": elems}})
	}
	data, err := json.Marshal(map[string]any{"nftables": objs})
	if g.gate != nil {
		g.taken <- struct{}{}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	return data, true, err
}

// collect waits for the background read-back to finish.
func collect(t *testing.T, r *Reconciler) (ReadBackOutcome, int, error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		outcome, drift, err := r.CollectReadBack()
		if outcome != ReadBackNone {
			return outcome, drift, err
		}
		if time.Now().After(deadline) {
			t.Fatal("background read-back did not finish within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A background read-back finds drift in objects no transaction touched
// while it read, and ignores the ones a transaction rewrote meanwhile
// (their snapshot may predate the write); the next Sync repairs only the
// drift.
func TestReconciler_BackgroundReadBackAdoptsAroundOverlappingWrites(t *testing.T) {
	g := &gatedLister{Fake: fakeTable()}
	r := NewReconciler(g, knftables.InetFamily, "calico", nil)
	want := sample("10.0.0.1/32")
	mustSync(t, r, want, true)

	// Drift behind our back: someone empties ep-cali1.
	tx := g.NewTransaction()
	tx.Flush(&knftables.Chain{Name: "ep-cali1"})
	if err := g.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}

	g.gate, g.taken = make(chan struct{}), make(chan struct{}, 1)
	if !r.StartReadBack(context.Background()) {
		t.Fatal("StartReadBack refused a TableLister")
	}
	<-g.taken
	// While the read is in flight, we change the set and the map.
	changed := sample("10.0.0.1/32", "10.0.0.2/32")
	changed.Maps["dispatch"].Elements["cali2"] = "goto ep-cali1"
	if res := mustSync(t, r, changed, true); res.ElementsAdded != 2 {
		t.Fatalf("overlapping sync: %+v, want 2 elements added", res)
	}
	if outcome, _, _ := r.CollectReadBack(); outcome != ReadBackNone {
		t.Fatalf("read finished while gated: %v", outcome)
	}
	close(g.gate)

	outcome, drift, err := collect(t, r)
	if err != nil || outcome != ReadBackAdopted {
		t.Fatalf("CollectReadBack = %v, %v; want adopted", outcome, err)
	}
	if drift != 1 {
		t.Errorf("drift = %d, want 1 (chain ep-cali1; the set and map written during the read are not drift)", drift)
	}
	res := mustSync(t, r, changed, true)
	if res.ChainsWritten != 1 || res.ElementsAdded != 0 || res.ElementsRemoved != 0 {
		t.Errorf("repair: %+v, want ep-cali1 rewritten and no element changes", res)
	}
	if n := len(g.Table.Chains["ep-cali1"].Rules); n != 2 {
		t.Errorf("ep-cali1 has %d rules after repair, want 2", n)
	}
}

// A transaction that fails while a read is in flight leaves the cache
// unknown: the read is dropped and the next Sync reads synchronously.
func TestReconciler_BackgroundReadBackDroppedAfterFailedTransaction(t *testing.T) {
	g := &gatedLister{Fake: fakeTable()}
	r := NewReconciler(g, knftables.InetFamily, "calico", nil)
	mustSync(t, r, sample("10.0.0.1/32"), true)
	g.gate, g.taken = make(chan struct{}), make(chan struct{}, 1)
	r.StartReadBack(context.Background())
	<-g.taken
	r.Invalidate() // what a failed transaction does to the cache
	close(g.gate)
	if outcome, _, _ := collect(t, r); outcome != ReadBackStale {
		t.Errorf("outcome = %v, want stale", outcome)
	}
}

// Without a TableLister there is no background read (the caller reads
// synchronously).
func TestReconciler_NoBackgroundReadWithoutTableLister(t *testing.T) {
	r := NewReconciler(fakeTable(), knftables.InetFamily, "calico", nil)
	if r.CanReadBackInBackground() || r.StartReadBack(context.Background()) {
		t.Error("background read offered for a plain knftables interface")
	}
}

// TestGoInCallersNetns_RunsNiced: the background read-back's thread (and
// so the nft it starts) runs at nice readBackNice, leaving the CPU to
// applies; the caller's thread keeps its priority.
func TestGoInCallersNetns_RunsNiced(t *testing.T) {
	nice := func() int {
		raw, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - raw // the raw syscall value is 20 - nice
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := nice()
	got := make(chan int, 1)
	if err := goInCallersNetns(func(joinErr error) {
		if joinErr != nil {
			t.Error(joinErr)
		}
		got <- nice()
	}); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != readBackNice {
		t.Errorf("reader thread nice = %d, want %d", n, readBackNice)
	}
	if n := nice(); n != before {
		t.Errorf("caller's nice changed from %d to %d", before, n)
	}
}
