package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func watchCases() []testCase {
	return []testCase{
		{"Watch_FromListRevisionSeesExactlyLaterChanges", testWatchFromList},
		{"Watch_FromNowSkipsHistory", testWatchFromNow},
		{"Watch_FiltersByKindNamespaceAndPrefix", testWatchFilters},
		{"Watch_StopAndContextEndCloseTheChannel", testWatchStop},
		{"Watch_ResumesFromLastRevisionAfterRestart", testWatchAfterRestart},
		{"Compaction_OldRevisionsFailWithErrCompacted", testCompaction},
	}
}

// next returns the next n events or fails the test.
func next(t *testing.T, w datastore.Watcher, n int) []datastore.WatchEvent {
	t.Helper()
	var out []datastore.WatchEvent
	deadline := time.After(waitTimeout)
	for len(out) < n {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %s", len(out), n, describe(out))
			}
			out = append(out, ev)
		case <-deadline:
			t.Fatalf("got %d of %d events within %s: %s", len(out), n, waitTimeout, describe(out))
		}
	}
	return out
}

// quiet fails the test if the watch delivers anything within d.
func quiet(t *testing.T, w datastore.Watcher, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if ok {
			t.Fatalf("unexpected extra event %s", describe([]datastore.WatchEvent{ev}))
		}
	case <-time.After(d):
	}
}

// describe renders events as "added a@5, deleted b@7" for failure messages.
func describe(evs []datastore.WatchEvent) string {
	s := ""
	for i, ev := range evs {
		if i > 0 {
			s += ", "
		}
		s += ev.Type.String() + " " + eventName(ev) + "@" + ev.Revision
		if ev.Err != nil {
			s += " (" + ev.Err.Error() + ")"
		}
	}
	return "[" + s + "]"
}

func eventName(ev datastore.WatchEvent) string {
	switch {
	case ev.New != nil:
		return names([]datastore.KVPair{*ev.New})[0]
	case ev.Previous != nil:
		return names([]datastore.KVPair{*ev.Previous})[0]
	}
	return "?"
}

// summary renders events as "added a", comparable in tables.
func summary(evs []datastore.WatchEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type.String() + " " + eventName(ev)
	}
	return out
}

func testWatchFromList(t *testing.T, h Harness) {
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	mustCreate(t, b, pool("b"), `{"v":1}`)
	list := mustList(t, b, datastore.ListOptions{Kind: "IPPool"})

	// Changes made before Watch is called but after the list must arrive.
	a2 := mustUpdate(t, b, a, `{"v":2}`)
	w, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, list.Revision)
	if err != nil {
		t.Fatalf("Watch from %s: %v", list.Revision, err)
	}
	defer w.Stop()
	if _, err := b.Delete(ctx(t), pool("b"), ""); err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, b, pool("c"), `{"v":1}`)

	evs := next(t, w, 3)
	want := []string{"modified a", "deleted b", "added c"}
	if got := summary(evs); !slices.Equal(got, want) {
		t.Fatalf("events after list revision %s = %s; want %v", list.Revision, describe(evs), want)
	}
	if evs[0].Revision != a2.Revision || string(evs[0].New.Value) != `{"v":2}` {
		t.Errorf("modify event = %s value %s; want revision %s value {\"v\":2}", evs[0].Revision, evs[0].New.Value, a2.Revision)
	}
	if evs[0].Previous != nil && string(evs[0].Previous.Value) != `{"v":1}` {
		t.Errorf("modify event's Previous = %s; want {\"v\":1}", evs[0].Previous.Value)
	}
	if evs[1].Previous == nil || evs[1].Previous.Key != pool("b") || evs[1].New != nil {
		t.Errorf("delete event = %+v; want Previous = IPPool(b) and no New", evs[1])
	}
	if evs[2].Revision != c.Revision || evs[2].New.Revision != c.Revision {
		t.Errorf("add event revision %s; want %s", evs[2].Revision, c.Revision)
	}
	for i := 1; i < len(evs); i++ {
		if !revLess(t, evs[i-1].Revision, evs[i].Revision) {
			t.Errorf("events out of revision order: %s", describe(evs))
		}
	}
	quiet(t, w, 200*time.Millisecond)
}

func testWatchFromNow(t *testing.T, h Harness) {
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	w, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	mustUpdate(t, b, a, `{"v":2}`)
	if got := summary(next(t, w, 1)); !slices.Equal(got, []string{"modified a"}) {
		t.Fatalf("watch from now = %v; want only the later update", got)
	}
	quiet(t, w, 200*time.Millisecond)
}

func testWatchFilters(t *testing.T, h Harness) {
	b := h.Backend
	start := mustCreate(t, b, pool("seed"), `{}`).Revision
	watch := func(opts datastore.ListOptions) datastore.Watcher {
		w, err := b.Watch(ctx(t), opts, start)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	byNS := watch(datastore.ListOptions{Kind: "NetworkPolicy", Namespace: "a"})
	byPrefix := watch(datastore.ListOptions{Kind: "NetworkPolicy", NamePrefix: "knp."})
	pools := watch(datastore.ListOptions{Kind: "IPPool"})
	for _, k := range []datastore.Key{policy("a-b", "x"), policy("a", "x"), policy("b", "knp.y"), pool("p")} {
		mustCreate(t, b, k, `{}`)
	}
	for _, tt := range []struct {
		name string
		w    datastore.Watcher
		want []string
	}{
		{"namespace a", byNS, []string{"added a/x"}},
		{"prefix knp.", byPrefix, []string{"added b/knp.y"}},
		{"kind IPPool", pools, []string{"added p"}},
	} {
		if got := summary(next(t, tt.w, len(tt.want))); !slices.Equal(got, tt.want) {
			t.Errorf("watch %s = %v; want %v", tt.name, got, tt.want)
		}
		quiet(t, tt.w, 100*time.Millisecond)
	}
}

func testWatchStop(t *testing.T, h Harness) {
	b := h.Backend
	w, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, "")
	if err != nil {
		t.Fatal(err)
	}
	w.Stop()
	w.Stop() // twice is safe
	waitClosed(t, w, "after Stop")

	c, cancel := context.WithCancel(ctx(t))
	w2, err := b.Watch(c, datastore.ListOptions{Kind: "IPPool"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	cancel()
	waitClosed(t, w2, "after its context ended")
}

// waitClosed drains w until its channel closes or the wait times out.
func waitClosed(t *testing.T, w datastore.Watcher, when string) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return
			}
			if ev.Type != datastore.EventError {
				t.Fatalf("event %s %s", describe([]datastore.WatchEvent{ev}), when)
			}
		case <-deadline:
			t.Fatalf("watch channel still open %s", when)
		}
	}
}

func testWatchAfterRestart(t *testing.T, h Harness) {
	if h.Restart == nil {
		t.Skip("backend has no server to restart")
	}
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	seen := a.Revision
	// Changes the watcher "misses" because it is not running.
	a2 := mustUpdate(t, b, a, `{"v":2}`)
	mustCreate(t, b, pool("b"), `{"v":1}`)

	// A watch that is running across the restart must not lose or repeat
	// events: it either continues or ends (then we resume from its last
	// revision).
	live, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, seen)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	first := next(t, live, 2)

	h.Restart(t)

	got, err := b.Get(ctx(t), pool("a"))
	if err != nil || string(got.Value) != `{"v":2}` || got.Revision != a2.Revision {
		t.Fatalf("after restart Get a = %v, %v; want {\"v\":2} at %s (data must persist)", got, err, a2.Revision)
	}
	mustUpdate(t, b, got, `{"v":3}`)

	w, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, seen)
	if err != nil {
		t.Fatalf("Watch from revision %s after restart: %v", seen, err)
	}
	defer w.Stop()
	want := []string{"modified a", "added b", "modified a"}
	if evs := next(t, w, 3); !slices.Equal(summary(evs), want) {
		t.Fatalf("watch from %s after restart = %s; want %v", seen, describe(evs), want)
	}

	// The live watch: collect what it delivers; if it ended, resume.
	evs := first
	last := first[len(first)-1].Revision
	deadline := time.After(waitTimeout)
	for len(evs) < 3 {
		select {
		case ev, ok := <-live.Events():
			if !ok || ev.Type == datastore.EventError {
				if live, err = b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, last); err != nil {
					t.Fatal(err)
				}
				defer live.Stop()
				continue
			}
			evs = append(evs, ev)
			last = ev.Revision
		case <-deadline:
			t.Fatalf("live watch across restart delivered %s; want 3 events", describe(evs))
		}
	}
	if !slices.Equal(summary(evs), want) {
		t.Fatalf("live watch across restart = %s; want %v", describe(evs), want)
	}
}

func testCompaction(t *testing.T, h Harness) {
	if h.Compact == nil {
		t.Skip("backend cannot compact")
	}
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	old := a.Revision
	for i := 2; i <= 4; i++ {
		a = mustUpdate(t, b, a, fmt.Sprintf(`{"v":%d}`, i))
	}
	h.Compact(t, a.Revision)

	if _, err := b.List(ctx(t), datastore.ListOptions{Kind: "IPPool", Revision: old}); !errors.Is(err, datastore.ErrCompacted) {
		t.Errorf("List at compacted revision %s: err = %v; want ErrCompacted", old, err)
	}
	w, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, old)
	if err != nil {
		// Refusing up front is as good as an EventError, if it says why.
		if !errors.Is(err, datastore.ErrCompacted) {
			t.Fatalf("Watch from compacted revision %s: err = %v; want ErrCompacted", old, err)
		}
	} else {
		defer w.Stop()
		evs := next(t, w, 1)
		if evs[0].Type != datastore.EventError || !errors.Is(evs[0].Err, datastore.ErrCompacted) {
			t.Fatalf("Watch from compacted revision %s delivered %s; want an error wrapping ErrCompacted", old, describe(evs))
		}
		waitClosed(t, w, "after a compaction error")
	}
	// The current state is intact and watchable from the compaction point.
	if l := mustList(t, b, datastore.ListOptions{Kind: "IPPool", Revision: a.Revision}); len(l.Items) != 1 || string(l.Items[0].Value) != `{"v":4}` {
		t.Fatalf("List at the compaction revision = %v", l.Items)
	}
	w2, err := b.Watch(ctx(t), datastore.ListOptions{Kind: "IPPool"}, a.Revision)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	mustUpdate(t, b, a, `{"v":5}`)
	if got := summary(next(t, w2, 1)); !slices.Equal(got, []string{"modified a"}) {
		t.Fatalf("watch from the compaction revision = %v", got)
	}
}
