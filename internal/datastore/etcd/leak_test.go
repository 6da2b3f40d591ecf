package etcd_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func TestWatch_StopReleasesGoroutines(t *testing.T) {
	e := startEmbedded(t, t.TempDir(), "")
	t.Cleanup(e.Close)
	b := newClient(t, e.Endpoints())
	ctx := context.Background()
	// One watch first, so the client's shared stream machinery exists in
	// the baseline.
	w0, err := b.Watch(ctx, datastore.ListOptions{Kind: "IPPool"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		w, err := b.Watch(ctx, datastore.ListOptions{Kind: "IPPool"}, "")
		if err != nil {
			t.Fatal(err)
		}
		w.Stop()
		for range w.Events() {
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := runtime.NumGoroutine()
		if after <= before+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before 50 watch start/stop cycles, %d after; stacks:\n%s", before, after, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
