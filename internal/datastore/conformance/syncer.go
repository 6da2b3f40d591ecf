package conformance

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func syncerCases() []testCase {
	return []testCase{
		{"Syncer_SnapshotThenInSyncThenDeltas", testSyncerOrdering},
		{"Syncer_ResumesBrokenWatchWithoutResending", testSyncerBrokenWatch},
		{"Syncer_RelistsAfterCompactionAndSendsOnlyTheDifference", testSyncerCompaction},
		{"Syncer_SurvivesServerRestart", testSyncerRestart},
	}
}

var syncKinds = []datastore.ListOptions{{Kind: "IPPool"}, {Kind: "NetworkPolicy"}}

// startSyncer runs a syncer over syncKinds until the test ends.
func startSyncer(t *testing.T, b datastore.Backend) *Recorder {
	t.Helper()
	rec := NewRecorder()
	s := datastore.NewSyncer(b, syncKinds, rec)
	s.MinBackoff, s.MaxBackoff = 10*time.Millisecond, 200*time.Millisecond
	s.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(c)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Errorf("Syncer.Run did not return after its context ended")
		}
	})
	return rec
}

// testWriter sends syncer logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// inSyncAndMatching waits for InSync and a view equal to the store.
func inSyncAndMatching(t *testing.T, rec *Recorder, b datastore.Backend, what string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		s := rec.Statuses()
		ok, diff, err := rec.MatchesStore(ctx(t), b, syncKinds)
		if err == nil && ok && len(s) > 0 && s[len(s)-1] == datastore.InSync {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: statuses %v, list error %v, view differs from store: %s; log %v",
				what, s, err, diff, rec.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(rec.Problems) > 0 {
		t.Fatalf("syncer protocol violations: %v", rec.Problems)
	}
}

func testSyncerOrdering(t *testing.T, h Harness) {
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	mustCreate(t, b, pool("b"), `{"v":1}`)
	mustCreate(t, b, policy("ns", "p"), `{"v":1}`)
	mustCreate(t, b, datastore.Key{Kind: "HostEndpoint", Name: "not-synced"}, `{}`)

	rec := startSyncer(t, b)
	inSyncAndMatching(t, rec, b, "the snapshot of 3 resources and InSync")
	want := []datastore.SyncStatus{datastore.WaitForDatastore, datastore.ResyncInProgress, datastore.InSync}
	if got := rec.Statuses(); !slices.Equal(got, want) {
		t.Fatalf("statuses = %v; want %v", got, want)
	}
	if rec.UpdatesBeforeInSync != 3 {
		t.Fatalf("%d updates before InSync; want the 3-resource snapshot: %v", rec.UpdatesBeforeInSync, rec.Log())
	}

	mustUpdate(t, b, a, `{"v":2}`)
	if _, err := b.Delete(ctx(t), pool("b"), ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, policy("ns", "q"), `{"v":1}`)
	rec.WaitFor(t, "3 deltas", func(r *Recorder) bool { return r.Updates() == 6 })
	// Order is guaranteed per kind (one watch each), not across kinds.
	log := rec.Log()
	var pools, policies []string
	for _, l := range log[len(log)-3:] {
		if strings.Contains(l, "IPPool(") {
			pools = append(pools, l)
		} else {
			policies = append(policies, l)
		}
	}
	if want := []string{"updated IPPool(a)", "deleted IPPool(b)"}; !slices.Equal(pools, want) {
		t.Fatalf("IPPool deltas = %v; want %v (full log %v)", pools, want, log)
	}
	if want := []string{"new NetworkPolicy(ns/q)"}; !slices.Equal(policies, want) {
		t.Fatalf("NetworkPolicy deltas = %v; want %v (full log %v)", policies, want, log)
	}
	inSyncAndMatching(t, rec, b, "view equal to the store after deltas")
}

func testSyncerBrokenWatch(t *testing.T, h Harness) {
	f := newFaultyBackend(h.Backend)
	a := mustCreate(t, f, pool("a"), `{"v":1}`)
	mustCreate(t, f, pool("b"), `{"v":1}`)
	rec := startSyncer(t, f)
	inSyncAndMatching(t, rec, f, "initial sync")
	before := rec.Updates()

	f.breakAndHold()
	a = mustUpdate(t, f, a, `{"v":2}`)
	mustCreate(t, f, pool("c"), `{"v":1}`)
	f.release()

	inSyncAndMatching(t, rec, f, "catch-up after a broken watch")
	rec.WaitFor(t, "2 more updates", func(r *Recorder) bool { return r.Updates() >= before+2 })
	time.Sleep(100 * time.Millisecond)
	if n := rec.Updates() - before; n != 2 {
		t.Fatalf("after the broken watch the syncer sent %d updates; want exactly 2 (updated a, new c): %v", n, rec.Log())
	}
}

func testSyncerCompaction(t *testing.T, h Harness) {
	if h.Compact == nil {
		t.Skip("backend cannot compact")
	}
	f := newFaultyBackend(h.Backend)
	mustCreate(t, f, pool("a"), `{"v":1}`)
	mustCreate(t, f, pool("b"), `{"v":1}`)
	c := mustCreate(t, f, pool("c"), `{"v":1}`)
	mustCreate(t, f, policy("ns", "keep"), `{}`)
	rec := startSyncer(t, f)
	inSyncAndMatching(t, rec, f, "initial sync")
	before := rec.Updates()
	watches := f.Watches()

	// While the syncer cannot watch, history moves on and is compacted, so
	// resuming from its last revision is impossible.
	f.breakAndHold()
	if _, err := f.Delete(ctx(t), pool("b"), ""); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, f, c, `{"v":2}`)
	mustCreate(t, f, pool("d"), `{"v":1}`)
	latest := mustCreate(t, f, datastore.Key{Kind: "HostEndpoint", Name: "bump"}, `{}`)
	h.Compact(t, latest.Revision)
	f.release()

	inSyncAndMatching(t, rec, f, "re-list after compaction")
	rec.WaitFor(t, "3 more updates", func(r *Recorder) bool { return r.Updates() >= before+3 })
	time.Sleep(100 * time.Millisecond)
	log := rec.Log()
	after := slices.Clone(log[len(log)-(rec.Updates()-before):])
	slices.Sort(after)
	want := []string{"deleted IPPool(b)", "new IPPool(d)", "updated IPPool(c)"}
	if !slices.Equal(after, want) {
		t.Fatalf("after compaction the syncer sent %v; want only the difference %v", after, want)
	}
	if f.Watches() <= watches {
		t.Fatalf("syncer did not re-watch after the failure")
	}
}

func testSyncerRestart(t *testing.T, h Harness) {
	if h.Restart == nil {
		t.Skip("backend has no server to restart")
	}
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	rec := startSyncer(t, b)
	inSyncAndMatching(t, rec, b, "initial sync")

	h.Restart(t)
	mustUpdate(t, b, a, `{"v":2}`)
	mustCreate(t, b, policy("ns", "after-restart"), `{}`)
	inSyncAndMatching(t, rec, b, "changes after the server restart")
}
