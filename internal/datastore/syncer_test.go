package datastore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/conformance"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

func TestSyncer_NoKindsIsInSyncAtOnce(t *testing.T) {
	rec := conformance.NewRecorder()
	s := datastore.NewSyncer(memory.New(), nil, rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	rec.WaitFor(t, "InSync", func(r *conformance.Recorder) bool { return len(r.Statuses()) == 3 })
	want := []datastore.SyncStatus{datastore.WaitForDatastore, datastore.ResyncInProgress, datastore.InSync}
	if got := rec.Statuses(); !slices.Equal(got, want) {
		t.Fatalf("statuses = %v; want %v", got, want)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// failingList is a backend whose List fails until allowed, as an unreachable
// datastore does.
type failingList struct {
	datastore.Backend
	allow chan struct{}
}

func (f *failingList) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	select {
	case <-f.allow:
		return f.Backend.List(ctx, opts)
	default:
		return nil, context.DeadlineExceeded
	}
}

func TestSyncer_WaitsForDatastoreUntilListSucceeds(t *testing.T) {
	mem := memory.New()
	if _, err := mem.Create(context.Background(), &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "a"}, Value: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	b := &failingList{Backend: mem, allow: make(chan struct{})}
	rec := conformance.NewRecorder()
	s := datastore.NewSyncer(b, []datastore.ListOptions{{Kind: "IPPool"}}, rec)
	s.MinBackoff, s.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	time.Sleep(100 * time.Millisecond)
	if got := rec.Statuses(); !slices.Equal(got, []datastore.SyncStatus{datastore.WaitForDatastore}) || rec.Updates() != 0 {
		t.Fatalf("while List fails: statuses %v, %d updates; want only WaitForDatastore", got, rec.Updates())
	}
	close(b.allow)
	rec.WaitFor(t, "InSync with 1 update", func(r *conformance.Recorder) bool {
		st := r.Statuses()
		return len(st) == 3 && st[2] == datastore.InSync && r.Updates() == 1
	})
}
