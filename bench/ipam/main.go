// Command ipam-bench measures Tricolor IPAM on an embedded etcd and prints
// a markdown table: allocations/s for one node and for 20 concurrent
// nodes, block utilisation after 10,000 allocations across 20 nodes, and
// the p50/p99 latency of one allocation. The one-node rate is the baseline
// the 20-node figure is expressed against.
//
//	go run ./bench/ipam [-n 10000] [-nodes 20]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

func main() {
	total := flag.Int("n", 10000, "allocations in the multi-node run")
	nodes := flag.Int("nodes", 20, "concurrent nodes")
	single := flag.Int("single", 2000, "allocations in the one-node run")
	flag.Parse()
	if err := run(*total, *nodes, *single); err != nil {
		fmt.Fprintln(os.Stderr, "ipam-bench:", err)
		os.Exit(1)
	}
}

func run(total, nodes, single int) error {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	oneRate, lat, err := phase(ctx, quiet, 1, single)
	if err != nil {
		return err
	}
	manyRate, _, err := phase(ctx, quiet, nodes, total)
	if err != nil {
		return err
	}
	util := manyRate.util
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }

	fmt.Printf("### IPAM (embedded etcd, %s)\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Println("| Measure | Value | Ratio to baseline |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| Allocations/s, 1 node (baseline, %d allocations) | %.0f | 1.00 |\n", single, oneRate.rate)
	fmt.Printf("| Allocations/s, %d concurrent nodes (%d allocations) | %.0f | %.2f |\n", nodes, total, manyRate.rate, manyRate.rate/oneRate.rate)
	fmt.Printf("| Block utilisation after %d allocations on %d nodes | %.1f%% (%d blocks) | — |\n", total, nodes, util*100, manyRate.blocks)
	fmt.Printf("| Latency of one allocation, p50 (1 node) | %s | — |\n", p(0.50).Round(time.Microsecond))
	fmt.Printf("| Latency of one allocation, p99 (1 node) | %s | %.1f× p50 |\n", p(0.99).Round(time.Microsecond), float64(p(0.99))/float64(p(0.50)))
	return nil
}

type result struct {
	rate   float64
	util   float64
	blocks int
}

// phase starts a fresh embedded etcd with one /16 pool and has `nodes`
// goroutines (one IPAM client and hostname each) allocate n addresses.
func phase(ctx context.Context, log *slog.Logger, nodes, n int) (result, []time.Duration, error) {
	dir, err := os.MkdirTemp("", "ipam-bench-")
	if err != nil {
		return result{}, nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, UnsafeNoFsync: true})
	if err != nil {
		return result{}, nil, err
	}
	defer srv.Close()
	be, err := etcd.New(etcd.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		return result{}, nil, err
	}
	defer be.Close()
	pool, _ := json.Marshal(map[string]any{"kind": "IPPool", "apiVersion": "projectcalico.org/v3",
		"metadata": map[string]any{"name": "bench"}, "spec": map[string]any{"cidr": "10.0.0.0/16", "blockSize": 26}})
	if _, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "bench"}, Value: pool}); err != nil {
		return result{}, nil, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats []time.Duration
		errs []error
	)
	per := n / nodes
	start := time.Now()
	for i := 0; i < nodes; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m := ipam.New(be, ipam.Options{Logger: log})
			node := fmt.Sprintf("node-%02d", i)
			for j := 0; j < per; j++ {
				t0 := time.Now()
				_, _, err := m.AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, Hostname: node,
					HandleID: fmt.Sprintf("%s%s-%d", ipam.WorkloadHandlePrefix, node, j)})
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				lats = append(lats, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	if len(errs) > 0 {
		return result{}, nil, errs[0]
	}
	u, err := ipam.New(be, ipam.Options{Logger: log}).Usage(ctx)
	if err != nil {
		return result{}, nil, err
	}
	r := result{rate: float64(per*nodes) / el.Seconds(), blocks: len(u.Blocks)}
	if cap := u.BlockCapacity(); cap > 0 {
		r.util = float64(u.InUse()) / float64(cap)
	}
	return r, lats, nil
}
