package ipam

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// churn sizes: 20 nodes, 5,000 allocations, every third followed by a
// release, in a /20 (4,096 addresses) so that nodes run out of unclaimed
// blocks and must borrow and race for the last ones.
const (
	churnNodes  = 20
	churnAllocs = 5000
	churnPool   = "10.244.0.0/20"
)

// runChurn is the property test: concurrent allocation and release from
// churnNodes simulated nodes, each with its own IPAM client, then checks
// zero duplicates, exact accounting, and a fully empty datastore after
// everything is released.
func runChurn(t *testing.T, be datastore.Backend) {
	t.Helper()
	e := &env{t: t, be: be, m: New(be, Options{Logger: quietLogger()})}
	e.pool("churn", churnPool, 26, nil)
	for n := 0; n < churnNodes; n++ {
		e.node(fmt.Sprintf("node-%02d", n), nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type held struct {
		addr   netip.Addr
		handle string
	}
	var (
		mu       sync.Mutex
		live     = map[netip.Addr]string{} // address → handle
		dups     []string
		failures []error
		wg       sync.WaitGroup
	)
	per := churnAllocs / churnNodes
	start := time.Now()
	for n := 0; n < churnNodes; n++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			node := fmt.Sprintf("node-%02d", n)
			m := New(be, Options{Logger: quietLogger()}) // one client per node
			r := rand.New(rand.NewPCG(uint64(n), 1))
			var mine []held
			fail := func(err error) {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
			}
			for i := 0; i < per; i++ {
				h := fmt.Sprintf("%s%s-%04d", WorkloadHandlePrefix, node, i)
				v4, _, err := m.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: h, Hostname: node,
					Attrs: map[string]string{AttrNamespace: "ns", AttrPod: h}})
				if err != nil {
					fail(fmt.Errorf("%s allocation %d: %w", node, i, err))
					return
				}
				a := v4.IPs[0].Addr
				mu.Lock()
				if prev, ok := live[a]; ok {
					dups = append(dups, fmt.Sprintf("%s held by %s and %s", a, prev, h))
				}
				live[a] = h
				mu.Unlock()
				mine = append(mine, held{a, h})
				if i%3 == 2 {
					k := r.IntN(len(mine))
					x := mine[k]
					mine = append(mine[:k], mine[k+1:]...)
					mu.Lock()
					delete(live, x.addr) // before the release: it may be reused at once
					mu.Unlock()
					if _, err := m.ReleaseByHandle(ctx, x.handle); err != nil {
						fail(fmt.Errorf("%s release %s: %w", node, x.handle, err))
						return
					}
				}
			}
		}(n)
	}
	wg.Wait()
	t.Logf("%d allocations (+releases) by %d nodes in %s", churnAllocs, churnNodes, time.Since(start).Round(time.Millisecond))
	if len(failures) > 0 {
		t.Fatalf("%d operations failed; first: %v", len(failures), failures[0])
	}
	if len(dups) > 0 {
		t.Fatalf("%d duplicate assignments, e.g. %s", len(dups), dups[0])
	}

	// Every address we hold is stored under its handle, and nothing else is.
	blocks, err := e.m.listBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[netip.Addr]string{}
	for _, b := range blocks {
		for o := range b.spec.Allocations {
			if b.active(o) {
				stored[addrAt(b.cidr, o)] = *b.attrAt(o).HandleID
			}
		}
	}
	if len(stored) != len(live) {
		t.Errorf("blocks hold %d allocations; clients hold %d", len(stored), len(live))
	}
	for a, h := range live {
		if stored[a] != h {
			t.Errorf("%s: client holds it as %s, block says %q", a, h, stored[a])
		}
	}
	if r := e.check(); !r.OK() {
		t.Fatalf("check after churn: %d problems: %+v", r.Problems(), r)
	}

	// Release everything, then the nodes' affinities: nothing may remain.
	handles := make(chan string, len(live))
	for _, h := range live {
		handles <- h
	}
	close(handles)
	var rerr []error
	for n := 0; n < churnNodes; n++ {
		wg.Add(1)
		go func(node string) {
			defer wg.Done()
			for h := range handles {
				if _, err := e.m.ReleaseByHandle(ctx, h); err != nil {
					mu.Lock()
					rerr = append(rerr, fmt.Errorf("final release %s: %w", h, err))
					mu.Unlock()
				}
			}
		}(fmt.Sprintf("node-%02d", n))
	}
	wg.Wait()
	for n := 0; n < churnNodes; n++ {
		wg.Add(1)
		go func(node string) {
			defer wg.Done()
			if err := e.m.ReleaseHostAffinities(ctx, node, true); err != nil {
				mu.Lock()
				rerr = append(rerr, err)
				mu.Unlock()
			}
		}(fmt.Sprintf("node-%02d", n))
	}
	wg.Wait()
	if len(rerr) > 0 {
		t.Fatalf("%d final releases failed; first: %v", len(rerr), rerr[0])
	}
	for _, k := range []string{kindIPAMBlock, kindBlockAffinity, kindIPAMHandle} {
		if n := e.count(k); n != 0 {
			t.Errorf("%d %s objects left after releasing everything; want 0", n, k)
		}
	}
}

func TestChurn_MemoryBackend(t *testing.T) {
	be := memory.New()
	defer be.Close()
	runChurn(t, be)
}

func TestChurn_EmbeddedEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the etcd churn test")
	}
	srv, err := etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{DataDir: t.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	runChurn(t, etcdClient(t, srv.Endpoints()))
}

func TestChurn_ExternalEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the etcd churn test")
	}
	runChurn(t, etcdClient(t, []string{testutil.StartEtcd(t)}))
}

func etcdClient(t *testing.T, endpoints []string) datastore.Backend {
	t.Helper()
	b, err := etcd.New(etcd.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
