package conformance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Recorder is a datastore.SyncerCallbacks that keeps the consumer's view
// (key → value and revision) and the order in which things arrived. Other
// packages' tests may use it to drive a Syncer.
type Recorder struct {
	mu       sync.Mutex
	statuses []datastore.SyncStatus
	log      []string // "status in-sync", "new IPPool(a)", ...
	state    map[datastore.Key]datastore.KVPair
	updates  int
	// UpdatesBeforeInSync counts updates delivered before InSync.
	UpdatesBeforeInSync int
	// Problems collects protocol violations (a New for a key already held,
	// an Updated or Deleted for an unknown key, a stale revision).
	Problems []string
}

var _ datastore.SyncerCallbacks = (*Recorder)(nil)

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{state: map[datastore.Key]datastore.KVPair{}}
}

// OnStatusUpdated implements datastore.SyncerCallbacks.
func (r *Recorder) OnStatusUpdated(s datastore.SyncStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, s)
	r.log = append(r.log, "status "+s.String())
}

// OnUpdates implements datastore.SyncerCallbacks.
func (r *Recorder) OnUpdates(us []datastore.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inSync := len(r.statuses) > 0 && r.statuses[len(r.statuses)-1] == datastore.InSync
	for _, u := range us {
		r.updates++
		if !inSync {
			r.UpdatesBeforeInSync++
		}
		r.log = append(r.log, u.UpdateType.String()+" "+u.Key.String())
		old, had := r.state[u.Key]
		switch u.UpdateType {
		case datastore.UpdateTypeNew:
			if had {
				r.Problems = append(r.Problems, fmt.Sprintf("new %s but it is already held at %s", u.Key, old.Revision))
			}
			r.state[u.Key] = u.KVPair
		case datastore.UpdateTypeUpdated:
			if !had {
				r.Problems = append(r.Problems, fmt.Sprintf("updated %s but it was never sent", u.Key))
			} else if old.Revision == u.Revision {
				r.Problems = append(r.Problems, fmt.Sprintf("updated %s at unchanged revision %s", u.Key, u.Revision))
			}
			r.state[u.Key] = u.KVPair
		case datastore.UpdateTypeDeleted:
			if !had {
				r.Problems = append(r.Problems, fmt.Sprintf("deleted %s but it was never sent", u.Key))
			}
			if u.Value != nil {
				r.Problems = append(r.Problems, fmt.Sprintf("deleted %s carries a value", u.Key))
			}
			delete(r.state, u.Key)
		default:
			r.Problems = append(r.Problems, fmt.Sprintf("%s has update type %v", u.Key, u.UpdateType))
		}
	}
}

// Statuses returns the statuses reported so far.
func (r *Recorder) Statuses() []datastore.SyncStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.statuses)
}

// Log returns everything received, in order.
func (r *Recorder) Log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// Updates returns how many updates have been delivered.
func (r *Recorder) Updates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updates
}

// State returns a copy of the consumer's view.
func (r *Recorder) State() map[datastore.Key]datastore.KVPair {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.state)
}

// WaitFor polls until cond holds on the recorder, failing the test after
// waitTimeout with what the recorder saw.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func(r *Recorder) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond(r) {
		if time.Now().After(deadline) {
			log := r.Log()
			if len(log) > 40 {
				log = append(log[:20:20], append([]string{"…"}, log[len(log)-20:]...)...)
			}
			t.Fatalf("timed out after %s waiting for %s; syncer delivered %v", waitTimeout, what, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MatchesStore reports whether the recorder's view equals a fresh List of
// every kind (keys, values and revisions); the difference is returned.
func (r *Recorder) MatchesStore(ctx context.Context, b datastore.Backend, kinds []datastore.ListOptions) (bool, string, error) {
	want := map[datastore.Key]datastore.KVPair{}
	for _, k := range kinds {
		l, err := b.List(ctx, k)
		if err != nil {
			return false, "", err
		}
		for _, kv := range l.Items {
			want[kv.Key] = kv
		}
	}
	got := r.State()
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k.String())
		case g.Revision != w.Revision || string(g.Value) != string(w.Value):
			diffs = append(diffs, fmt.Sprintf("%s at %s, store has %s", k, g.Revision, w.Revision))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "stale "+k.String())
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… %d more", len(diffs)-10))
	}
	return len(diffs) == 0, fmt.Sprint(diffs), nil
}
