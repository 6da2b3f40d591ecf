// Command ipam-bench measures Tricolor IPAM on an embedded etcd (fsync off)
// and prints a markdown table: allocations/s for one node and for 20
// concurrent nodes, the p50/p99 latency of one allocation, datastore round
// trips per allocation, and block utilisation after 10,000 allocations
// across 20 nodes. Every figure is measured with IPAM's cache off and on in
// the same run; each row gives its ratio to a baseline from the same run
// (cache off → on, 20 nodes vs 1 node, p99 vs p50).
//
//	go run ./bench/ipam [-n 10000] [-nodes 20] [-single 2000] [-out file.md] [-cpuprofile f]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

func main() {
	total := flag.Int("n", 10000, "allocations in each multi-node run")
	nodes := flag.Int("nodes", 20, "concurrent nodes")
	single := flag.Int("single", 2000, "allocations in each one-node run")
	out := flag.String("out", "", "also write the markdown table to this file")
	cpu := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ipam-bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "ipam-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	md, err := run(*total, *nodes, *single)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipam-bench:", err)
		os.Exit(1)
	}
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ipam-bench:", err)
			os.Exit(1)
		}
	}
}

// result is one phase's measurements.
type result struct {
	rate       float64 // allocations per second
	util       float64 // in-use addresses / capacity of existing blocks
	blocks     int
	roundTrips float64 // datastore calls per allocation
	p50, p99   time.Duration
}

func run(total, nodes, single int) (string, error) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	fmt.Fprintf(os.Stderr, "ipam-bench: 1 node, cache off and on, interleaved\n")
	oneOff, oneOn, err := singleNode(ctx, quiet, single)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "ipam-bench: %d nodes, cache off\n", nodes)
	manyOff, err := phase(ctx, quiet, nodes, total, true)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "ipam-bench: %d nodes, cache on\n", nodes)
	manyOn, err := phase(ctx, quiet, nodes, total, false)
	if err != nil {
		return "", err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	var b strings.Builder
	fmt.Fprintf(&b, "Embedded etcd, fsync off, one /16 pool of /26 blocks, one address per request under its own handle; %s.\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "\"Cache off\" is `ipam.Options{DisableCache: true}`: every request reads pools, reservations, configuration, node labels and\n")
	fmt.Fprintf(&b, "affinities afresh and has no remembered block. The one-node runs alternate cache off and on request by request (two\n")
	fmt.Fprintf(&b, "servers), so both see the same machine noise; the %d-node runs are one after the other.\n\n", nodes)
	fmt.Fprintln(&b, "| Measure | Cache off | Cache on | Ratio (baseline) |")
	fmt.Fprintln(&b, "|---|---|---|---|")
	fmt.Fprintf(&b, "| Allocations/s, 1 node (%d allocations) | %.0f | %.0f | %.2f (on vs off) |\n", single, oneOff.rate, oneOn.rate, oneOn.rate/oneOff.rate)
	fmt.Fprintf(&b, "| Allocations/s, %d concurrent nodes (%d allocations) | %.0f | %.0f | %.2f (on vs off); off %.2f, on %.2f (%d nodes vs 1 node) |\n",
		nodes, total, manyOff.rate, manyOn.rate, manyOn.rate/manyOff.rate, manyOff.rate/oneOff.rate, manyOn.rate/oneOn.rate, nodes)
	fmt.Fprintf(&b, "| Latency of one allocation, p50 (1 node) | %s | %s | %.2f (on vs off) |\n", ms(oneOff.p50), ms(oneOn.p50), float64(oneOn.p50)/float64(oneOff.p50))
	fmt.Fprintf(&b, "| Latency of one allocation, p99 (1 node) | %s | %s | %.2f (on vs off); off %.1f×, on %.1f× (p99 vs p50) |\n", ms(oneOff.p99), ms(oneOn.p99),
		float64(oneOn.p99)/float64(oneOff.p99), float64(oneOff.p99)/float64(oneOff.p50), float64(oneOn.p99)/float64(oneOn.p50))
	fmt.Fprintf(&b, "| Datastore round trips per allocation, 1 node | %.1f | %.1f | %.2f (on vs off) |\n", oneOff.roundTrips, oneOn.roundTrips, oneOn.roundTrips/oneOff.roundTrips)
	fmt.Fprintf(&b, "| Datastore round trips per allocation, %d nodes | %.1f | %.1f | %.2f (on vs off) |\n", nodes, manyOff.roundTrips, manyOn.roundTrips, manyOn.roundTrips/manyOff.roundTrips)
	fmt.Fprintf(&b, "| Block utilisation after %d allocations on %d nodes | %.1f%% (%d blocks) | %.1f%% (%d blocks) | — |\n",
		total, nodes, manyOff.util*100, manyOff.blocks, manyOn.util*100, manyOn.blocks)
	return b.String(), nil
}

// server is a fresh embedded etcd with one /16 pool of /26 blocks, and a
// round-trip counting store over it.
type server struct {
	srv     *etcd.Embedded
	be      *etcd.Backend
	counter *countingStore
	dir     string
}

func newServer(ctx context.Context) (*server, error) {
	dir, err := os.MkdirTemp("", "ipam-bench-")
	if err != nil {
		return nil, err
	}
	srv, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, UnsafeNoFsync: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	be, err := etcd.New(etcd.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	s := &server{srv: srv, be: be, counter: newCountingStore(be), dir: dir}
	pool, _ := json.Marshal(map[string]any{"kind": "IPPool", "apiVersion": "projectcalico.org/v3",
		"metadata": map[string]any{"name": "bench"}, "spec": map[string]any{"cidr": "10.0.0.0/16", "blockSize": 26}})
	if _, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "bench"}, Value: pool}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *server) close() {
	s.be.Close()
	s.srv.Close()
	os.RemoveAll(s.dir)
}

// finish fills in round trips, utilisation and percentiles.
func (s *server) finish(ctx context.Context, log *slog.Logger, r *result, done int, lats []time.Duration) error {
	r.roundTrips = float64(s.counter.calls.Load()) / float64(done)
	u, err := ipam.New(s.be, ipam.Options{Logger: log}).Usage(ctx)
	if err != nil {
		return err
	}
	r.blocks = len(u.Blocks)
	if c := u.BlockCapacity(); c > 0 {
		r.util = float64(u.InUse()) / float64(c)
	}
	slices.Sort(lats)
	r.p50 = lats[len(lats)/2]
	r.p99 = lats[int(0.99*float64(len(lats)-1))]
	return nil
}

// singleNode allocates n addresses for one node with the cache off and n
// with it on, alternating request by request on two servers.
func singleNode(ctx context.Context, log *slog.Logger, n int) (off, on result, err error) {
	var srv [2]*server
	for i := range srv {
		if srv[i], err = newServer(ctx); err != nil {
			return off, on, err
		}
		defer srv[i].close()
	}
	var (
		m     [2]*ipam.IPAM
		lats  [2][]time.Duration
		spent [2]time.Duration
	)
	for i := range m {
		m[i] = ipam.New(srv[i].counter.withFingerprints(), ipam.Options{Logger: log, DisableCache: i == 0})
	}
	for j := 0; j < n; j++ {
		for i := range m {
			t0 := time.Now()
			_, _, err := m[i].AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, Hostname: "node-00",
				HandleID: fmt.Sprintf("%snode-00-%d", ipam.WorkloadHandlePrefix, j)})
			d := time.Since(t0)
			if err != nil {
				return off, on, err
			}
			lats[i] = append(lats[i], d)
			spent[i] += d
		}
	}
	res := [2]*result{&off, &on}
	for i := range res {
		res[i].rate = float64(n) / spent[i].Seconds()
		if err := srv[i].finish(ctx, log, res[i], n, lats[i]); err != nil {
			return off, on, err
		}
	}
	return off, on, nil
}

// phase starts a fresh embedded etcd and has `nodes` goroutines (one IPAM
// client and hostname each) allocate n addresses in all, one address per
// request, each under its own handle as pods do.
func phase(ctx context.Context, log *slog.Logger, nodes, n int, noCache bool) (result, error) {
	s, err := newServer(ctx)
	if err != nil {
		return result{}, err
	}
	defer s.close()
	st := s.counter.withFingerprints()
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
			m := ipam.New(st, ipam.Options{Logger: log, DisableCache: noCache})
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
		return result{}, errs[0]
	}
	r := result{rate: float64(per*nodes) / el.Seconds()}
	if err := s.finish(ctx, log, &r, per*nodes, lats); err != nil {
		return result{}, err
	}
	return r, nil
}
