package ipam

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// The etcd backend is the Fingerprinter IPAM's cache is built for.
var _ Fingerprinter = (*etcd.Backend)(nil)

// fpBackend adds Fingerprints (computed with one List per set: count and
// highest revision) to a backend, and counts every call as a round trip,
// so the cache can be tested on the memory backend.
type fpBackend struct {
	datastore.Backend
	calls atomic.Int64
}

func (f *fpBackend) Fingerprints(ctx context.Context, sets []datastore.ListOptions) ([]string, error) {
	f.calls.Add(1)
	out := make([]string, len(sets))
	for i, s := range sets {
		l, err := f.Backend.List(ctx, s)
		if err != nil {
			return nil, err
		}
		var newest int64
		for _, kv := range l.Items {
			if r, _ := strconv.ParseInt(kv.Revision, 10, 64); r > newest {
				newest = r
			}
		}
		out[i] = fmt.Sprintf("%d/%d", len(l.Items), newest)
	}
	return out, nil
}

func (f *fpBackend) Get(ctx context.Context, k datastore.Key) (*datastore.KVPair, error) {
	f.calls.Add(1)
	return f.Backend.Get(ctx, k)
}

func (f *fpBackend) List(ctx context.Context, o datastore.ListOptions) (*datastore.KVList, error) {
	f.calls.Add(1)
	return f.Backend.List(ctx, o)
}

func (f *fpBackend) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	f.calls.Add(1)
	return f.Backend.Create(ctx, kv)
}

func (f *fpBackend) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	f.calls.Add(1)
	return f.Backend.Update(ctx, kv)
}

func (f *fpBackend) Delete(ctx context.Context, k datastore.Key, rev string) (*datastore.KVPair, error) {
	f.calls.Add(1)
	return f.Backend.Delete(ctx, k, rev)
}

// newCachedEnv is newEnv over a fingerprinting memory backend, so the
// IPAM caches.
func newCachedEnv(t *testing.T) (*env, *fpBackend) {
	t.Helper()
	mem := memory.New()
	t.Cleanup(func() { mem.Close() })
	be := &fpBackend{Backend: mem}
	return &env{t: t, be: be, m: New(be, Options{Logger: quietLogger()})}, be
}

// setPoolSpec rewrites pool name's spec through the store, as another
// client (calicoctl) would.
func (e *env) setPoolSpec(name string, spec map[string]any) {
	e.t.Helper()
	kv, err := e.be.Get(ctx, key(kindIPPool, name))
	if err != nil {
		e.t.Fatal(err)
	}
	kv.Value = encode(map[string]any{"kind": "IPPool", "apiVersion": apiVersion, "metadata": map[string]any{"name": name}, "spec": spec})
	if _, err := e.be.Update(ctx, kv); err != nil {
		e.t.Fatal(err)
	}
}

// TestCache_SeesOtherClientsChangesAtOnce changes, between two requests of
// one caching IPAM, every input the cache holds — pools, reservations,
// configuration, node labels — and checks the very next request obeys it.
func TestCache_SeesOtherClientsChangesAtOnce(t *testing.T) {
	e, _ := newCachedEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.node("node-1", map[string]string{"zone": "a"})
	first := e.mustAssign("node-1", "h1", 1)[0]

	e.setPoolSpec("p", map[string]any{"cidr": "10.0.0.0/24", "blockSize": 26, "disabled": true})
	if _, _, err := e.assign("node-1", "h2", 1, 0); err == nil {
		t.Fatal("allocated from a pool another client had just disabled")
	}
	e.setPoolSpec("p", map[string]any{"cidr": "10.0.0.0/24", "blockSize": 26, "nodeSelector": "zone == 'b'"})
	if _, _, err := e.assign("node-1", "h2", 1, 0); err == nil {
		t.Fatal("allocated from a pool whose nodeSelector no longer matches the node")
	}
	e.node2("node-1", map[string]string{"zone": "b"})
	second := e.mustAssign("node-1", "h2", 1)[0]

	next := second.Next()
	e.reservation("r", next.String()+"/32")
	third := e.mustAssign("node-1", "h3", 1)[0]
	if third == next {
		t.Errorf("handed out %s right after another client reserved it", next)
	}

	if err := New(e.be, Options{Logger: quietLogger()}).SetIPAMConfig(ctx, Config{AutoAllocateBlocks: false, StrictAffinity: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.ReleaseAffinity(ctx, blockFor(first, 26), "node-1", false); err != nil {
		t.Fatal(err)
	}
	var ex *ExhaustedError
	if _, _, err := e.assign("node-1", "h4", 1, 0); !errors.As(err, &ex) {
		t.Fatalf("after autoAllocateBlocks=false, strictAffinity=true and losing its block the node got %v; want an ExhaustedError", err)
	}
}

// node2 replaces a Node's labels through the store.
func (e *env) node2(name string, labels map[string]string) {
	e.t.Helper()
	kv, err := e.be.Get(ctx, key(kindNode, name))
	if err != nil {
		e.t.Fatal(err)
	}
	kv.Value = encode(map[string]any{"kind": "Node", "apiVersion": apiVersion, "metadata": map[string]any{"name": name, "labels": labels}})
	if _, err := e.be.Update(ctx, kv); err != nil {
		e.t.Fatal(err)
	}
}

// TestCache_StaleBlockCopyNeverDuplicates has two IPAMs for one node
// write the same block alternately: each one's remembered copy is stale
// every time, and every address must still be handed out once.
func TestCache_StaleBlockCopyNeverDuplicates(t *testing.T) {
	e, _ := newCachedEnv(t)
	e.pool("p", "10.0.0.0/26", 26, nil)
	e.node("node-1", nil)
	other := New(e.be, Options{Logger: quietLogger()})
	seen := map[string]string{}
	for i := 0; i < 64; i++ {
		m := e.m
		if i%2 == 1 {
			m = other
		}
		h := fmt.Sprintf("h%d", i)
		v4, _, err := m.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: h, Hostname: "node-1"})
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		a := v4.IPs[0].Addr.String()
		if prev, ok := seen[a]; ok {
			t.Fatalf("%s handed out to %s and %s", a, prev, h)
		}
		seen[a] = h
	}
	if _, _, err := e.assign("node-1", "h-extra", 1, 0); err == nil {
		t.Error("a 65th address came out of a full /26")
	}
	if r := e.check(); !r.OK() {
		t.Errorf("check: %+v", r)
	}
}

// TestCache_ReleasedElsewhereIsNotReused: another client releases the
// node's affinities behind the caching IPAM's back (the block keeps its
// address but loses its owner); the caching IPAM must not treat the block
// as its own any more, nor hand out the address still held.
func TestCache_ReleasedElsewhereIsNotReused(t *testing.T) {
	e, _ := newCachedEnv(t)
	e.pool("p", "10.0.0.0/25", 26, nil)
	e.node("node-1", nil)
	e.node("node-2", nil)
	a := e.mustAssign("node-1", "h1", 1)[0]
	other := New(e.be, Options{Logger: quietLogger()})
	if err := other.ReleaseHostAffinities(ctx, "node-1", false); err != nil {
		t.Fatal(err)
	}
	// node-2 claims the other block; node-1's old block is unowned now.
	e.mustAssign("node-2", "h2", 1)
	b := e.mustAssign("node-1", "h3", 1)[0]
	if b == a {
		t.Fatalf("re-assigned %s, still held by h1", a)
	}
	if r := e.check(); !r.OK() {
		t.Errorf("check: %+v", r)
	}
}

// TestCache_SteadyStateRoundTrips pins the fast path's cost: once warm, an
// allocation from the node's current block is one fingerprint read, one
// handle create and one block write.
func TestCache_SteadyStateRoundTrips(t *testing.T) {
	for _, c := range []struct {
		name    string
		disable bool
		max     int64
	}{{"cache on", false, 3}, {"cache off", true, 100}} {
		t.Run(c.name, func(t *testing.T) {
			e, be := newCachedEnv(t)
			e.m = New(be, Options{Logger: quietLogger(), DisableCache: c.disable})
			e.pool("p", "10.0.0.0/24", 26, nil)
			e.node("node-1", nil)
			e.mustAssign("node-1", "warm", 1)
			before := be.calls.Load()
			const n = 10
			for i := 0; i < n; i++ {
				e.mustAssign("node-1", fmt.Sprintf("h%d", i), 1)
			}
			per := (be.calls.Load() - before) / n
			t.Logf("%s: %d round trips per allocation", c.name, per)
			if per > c.max {
				t.Errorf("%d round trips per allocation; want at most %d", per, c.max)
			}
			if !c.disable && per >= 5 {
				t.Errorf("the cache saves nothing (%d round trips)", per)
			}
		})
	}
}

// TestChurn_MemoryBackendCached is the churn property test with every
// client caching (the etcd churn tests cache too).
func TestChurn_MemoryBackendCached(t *testing.T) {
	mem := memory.New()
	defer mem.Close()
	runChurn(t, &fpBackend{Backend: mem})
}

// TestCache_FullBlockSkippedOnlyWhileUnchanged: once the caching IPAM has
// seen its block full it skips reading it — but an address released there
// by another client changes the block, and the very next request uses it.
func TestCache_FullBlockSkippedOnlyWhileUnchanged(t *testing.T) {
	e, be := newCachedEnv(t)
	e.pool("p", "10.0.0.0/26", 26, nil)
	e.node("node-1", nil)
	addrs := e.mustAssign("node-1", "bulk", 64)
	// Only the node's own block may serve it from now on.
	if err := e.m.SetIPAMConfig(ctx, Config{AutoAllocateBlocks: false, StrictAffinity: true}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the first failure records the block full
		if _, _, err := e.assign("node-1", "more", 1, 0); err == nil {
			t.Fatal("allocated from a full /26")
		}
	}
	before := be.calls.Load()
	if _, _, err := e.assign("node-1", "more", 1, 0); err == nil {
		t.Fatal("allocated from a full /26")
	}
	skipped := be.calls.Load() - before
	other := New(e.be, Options{Logger: quietLogger()})
	if _, err := other.ReleaseIPs(ctx, ReleaseOptions{Address: addrs[10]}); err != nil {
		t.Fatal(err)
	}
	got := e.mustAssign("node-1", "more", 1)
	if got[0] != addrs[10] {
		t.Errorf("got %s; want %s, the one address another client freed", got[0], addrs[10])
	}
	t.Logf("a request against the known-full block took %d round trips", skipped)
}

// TestCache_ReleaseByHandleRoundTrips pins a pod release's cost with the
// cache warm: fingerprints, the handle, the block, the block write and the
// handle delete.
func TestCache_ReleaseByHandleRoundTrips(t *testing.T) {
	e, be := newCachedEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.node("node-1", nil)
	for i := 0; i < 4; i++ {
		e.mustAssign("node-1", fmt.Sprintf("h%d", i), 1)
	}
	before := be.calls.Load()
	for i := 0; i < 4; i++ {
		if _, err := e.m.ReleaseByHandle(ctx, fmt.Sprintf("h%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if per := (be.calls.Load() - before) / 4; per > 5 {
		t.Errorf("%d round trips per release; want at most 5", per)
	}
	if n := e.count(kindIPAMHandle); n != 0 {
		t.Errorf("%d handles left after releasing all", n)
	}
}
