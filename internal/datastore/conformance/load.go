package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Sizes of the load cases; large enough to expose races and paging, small
// enough to keep the whole suite within a couple of minutes per backend.
const (
	casWriters       = 8
	casIncrements    = 25
	largeListSize    = 10000
	largeListWorkers = 32
)

func loadCases() []testCase {
	return []testCase{
		{"Update_ConcurrentCASIncrementsAreNeverLost", testConcurrentCAS},
		{"List_LargeKindIsCompleteAndSorted", testLargeList},
	}
}

type counter struct {
	N int `json:"n"`
}

func testConcurrentCAS(t *testing.T, h Harness) {
	b := h.Backend
	key := pool("counter")
	mustCreate(t, b, key, `{"n":0}`)
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, casWriters)
	for w := 0; w < casWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < casIncrements; i++ {
				if err := increment(t, b, key, &conflicts); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := b.Get(ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	var c counter
	if err := json.Unmarshal(got.Value, &c); err != nil {
		t.Fatalf("counter value %s: %v", got.Value, err)
	}
	if want := casWriters * casIncrements; c.N != want {
		t.Fatalf("counter = %d after %d writers × %d increments; want %d (a CAS lost an update)", c.N, casWriters, casIncrements, want)
	}
	t.Logf("%d increments, %d conflicts retried", casWriters*casIncrements, conflicts.Load())
}

// increment is one read-modify-write with retry on conflict, as every
// Tricolor writer does.
func increment(t *testing.T, b datastore.Backend, key datastore.Key, conflicts *atomic.Int64) error {
	for attempt := 0; attempt < 1000; attempt++ {
		kv, err := b.Get(ctx(t), key)
		if err != nil {
			return err
		}
		var c counter
		if err := json.Unmarshal(kv.Value, &c); err != nil {
			return err
		}
		c.N++
		kv.Value, _ = json.Marshal(c)
		_, err = b.Update(ctx(t), kv)
		if err == nil {
			return nil
		}
		if !errors.Is(err, datastore.ErrConflict) {
			return err
		}
		conflicts.Add(1)
	}
	return fmt.Errorf("increment %s: still conflicting after 1000 attempts", key)
}

func testLargeList(t *testing.T, h Harness) {
	b := h.Backend
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, largeListWorkers)
	for w := 0; w < largeListWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < largeListSize; i += largeListWorkers {
				key := datastore.Key{Kind: "WorkloadEndpoint", Namespace: fmt.Sprintf("ns-%02d", i%20), Name: fmt.Sprintf("wep-%05d", i)}
				val := fmt.Sprintf(`{"i":%d,"pad":"%0100d"}`, i, 0)
				if _, err := b.Create(ctx(t), &datastore.KVPair{Key: key, Value: []byte(val)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	created := time.Since(start)

	start = time.Now()
	l := mustList(t, b, datastore.ListOptions{Kind: "WorkloadEndpoint"})
	listed := time.Since(start)
	if len(l.Items) != largeListSize {
		t.Fatalf("List returned %d items; want %d", len(l.Items), largeListSize)
	}
	seen := make(map[string]bool, largeListSize)
	for i, kv := range l.Items {
		if i > 0 {
			p := l.Items[i-1].Key
			if p.Namespace > kv.Key.Namespace || (p.Namespace == kv.Key.Namespace && p.Name >= kv.Key.Name) {
				t.Fatalf("List not sorted by namespace, name at %d: %s after %s", i, kv.Key, p)
			}
		}
		seen[kv.Key.Name] = true
	}
	if len(seen) != largeListSize {
		t.Fatalf("List has %d distinct names; want %d", len(seen), largeListSize)
	}
	if n := len(mustList(t, b, datastore.ListOptions{Kind: "WorkloadEndpoint", Namespace: "ns-07"}).Items); n != largeListSize/20 {
		t.Fatalf("List of one namespace returned %d; want %d", n, largeListSize/20)
	}
	// A point-in-time list of the same size is complete too (paging at a
	// fixed revision must not mix in later writes).
	mustCreate(t, b, datastore.Key{Kind: "WorkloadEndpoint", Namespace: "ns-00", Name: "wep-later"}, `{}`)
	if n := len(mustList(t, b, datastore.ListOptions{Kind: "WorkloadEndpoint", Revision: l.Revision}).Items); n != largeListSize {
		t.Fatalf("List at revision %s returned %d; want %d", l.Revision, n, largeListSize)
	}
	t.Logf("created %d in %s, listed in %s", largeListSize, created.Round(time.Millisecond), listed.Round(time.Millisecond))
}
