// Command felix measures Felix (internal/felix, internal/calc,
// internal/dataplane) against baselines taken in the same run:
//
//   - throughput: TCP (iperf3) and 64-byte UDP packet rate between two pods
//     through a node whose nftables Felix programmed, for a pod pair that
//     1,000 policies (10,000 rules) apply to against a pair no policy
//     selects, rounds interleaved;
//   - latency: from a policy write in etcd to a probe seeing it enforced,
//     with 1,000 local endpoints, against the same probe seeing a rule
//     written directly with nft;
//   - calc: a full sync of 10,000 endpoints and 2,000 policies through the
//     calc graph in a fresh process (time, peak RSS) against decoding the
//     same input with no graph.
//
// The first two need root (network namespaces, nftables) and iperf3.
//
//	go run ./bench/felix -out /tmp/felix.md                # everything
//	go run ./bench/felix -part calc -out /tmp/calc.md
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/bench/internal/stats"
)

func main() {
	part := flag.String("part", "all", "what to measure: all, dataplane (throughput and latency) or calc")
	out := flag.String("out", "", "write the markdown fragment here as well as to stdout")
	rounds := flag.Int("rounds", 5, "throughput rounds per pair and protocol, and calc runs per mode")
	secs := flag.Int("secs", 2, "seconds per iperf3 run")
	changes := flag.Int("changes", 100, "policy changes (allow/deny flips) timed through Felix, and as many through nft")
	hold := flag.Duration("hold", 0, "after setup, keep the node this long for inspection (log shows its namespace)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the latency phase here")
	child := flag.String("child", "", "internal: run one calc measurement ("+childDecode+" or "+childGraph+") and print JSON")
	childInput := flag.String("child-input", "", "internal: the calc child's input file")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *childInput, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}
	var md strings.Builder
	if *part == "all" || *part == "dataplane" {
		if err := dataplane(&md, *rounds, *secs, *changes, *cpuProfile, *hold); err != nil {
			log.Fatal(err)
		}
	}
	if *part == "all" || *part == "calc" {
		r, err := measureCalc(*rounds)
		if err != nil {
			log.Fatal(err)
		}
		md.WriteString("### Calc graph\n\n" + r.markdown())
	}
	if md.Len() == 0 {
		log.Fatalf("-part %q: want all, dataplane or calc", *part)
	}
	fmt.Print(md.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md.String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// dataplane sets up the node and measures throughput, then latency.
func dataplane(md *strings.Builder, rounds, secs, changes int, cpuProfile string, hold time.Duration) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("bench/felix -part dataplane needs root: it creates network namespaces and nftables tables")
	}
	for _, tool := range []string{"nft", "iperf3"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("bench/felix needs %s (Debian packages nftables, iperf3)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "tricolor-bench-felix-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	b, err := setUp(ctx, tmp)
	if err != nil {
		return err
	}
	defer b.close()
	setup := time.Since(start)
	log.Printf("bench/felix: node ready in %v", setup.Round(time.Millisecond))
	if hold > 0 {
		log.Printf("bench/felix: holding node namespace %s for %v", b.node.Name, hold)
		time.Sleep(hold)
	}

	pairs := [2]pair{
		{"no policy", b.pods[plainA], b.pods[plainB]},
		{"1,000 policies", b.pods[loadedA], b.pods[loadedB]},
	}
	tp, err := measureThroughput(pairs, rounds, secs)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	// First as shipped (ipv6Support false), then dual-stack rendering.
	var lats []*latencies
	for _, ipv6 := range []bool{false, true} {
		if ipv6 {
			if err := setIPv6Support(ctx, b, true); err != nil {
				return err
			}
		}
		lat, err := measureLatency(ctx, b, changes)
		if err != nil {
			return err
		}
		lat.ipv6 = ipv6
		lats = append(lats, lat)
		if cpuProfile != "" {
			pprof.StopCPUProfile() // the first configuration only
		}
	}
	writeDataplane(md, tp, lats, rounds, secs, setup)
	return nil
}

func writeDataplane(md *strings.Builder, tp [2]throughput, lats []*latencies, rounds, secs int, setup time.Duration) {
	fmt.Fprintf(md, "Node namespace with Felix (real calc graph, nft policy manager) fed by an embedded etcd holding "+
		"%d local workload endpoints and %d GlobalNetworkPolicies of %d rules (5 ingress, 5 egress), plus one final allow for the loaded pods. "+
		"Four endpoints are real pods (veth `cali…`, /32 route, proxy ARP, 169.254.1.1 gateway); the other %d are declared only — "+
		"their chains and verdict-map entries are programmed by interface name whether the interface exists or not. "+
		"Setup (writes, wiring, first sync and apply) took %.0f s.\n\n",
		nodeSpec.Local, nodeSpec.Policies, nodeSpec.RulesPerPolicy, nodeSpec.Local-4, setup.Seconds())
	fmt.Fprintf(md, "### Throughput through the node\n\n"+
		"iperf3, %d s per run, %d rounds; the pairs alternate first/second each round, and each round's loaded/baseline ratio is "+
		"taken within the round (median and range over rounds), so load changes between rounds cancel out. "+
		"Baseline: a pod pair in the same table that no policy selects (namespace profile only). "+
		"Loaded: a pair every one of the 1,000 policies applies to, both directions; the first packet of a flow walks all of them, "+
		"the rest take the conntrack fast path, as in Calico.\n\n", secs, rounds)
	md.WriteString("| Measurement | no policy (baseline), median | 1,000 policies / 10,000 rules, median | ratio per round: median (range) (target ≥ 0.95) |\n|---|---|---|---|\n")
	row := func(name, unit string, base, loaded []float64) {
		lo, mid, hi := pairedRatios(base, loaded)
		fmt.Fprintf(md, "| %s | %.2f %s | %.2f %s | %.2f (%.2f–%.2f) |\n", name, stats.Median(base), unit, stats.Median(loaded), unit, mid, lo, hi)
	}
	row("TCP throughput", "Gbit/s", tp[0].tcpGbps, tp[1].tcpGbps)
	row("UDP 64-byte packets received", "kpps", tp[0].udpKpps, tp[1].udpKpps)
	md.WriteString("\n")

	fmt.Fprintf(md, "### Policy programming latency\n\n"+
		"A GlobalNetworkPolicy (first in the default tier) flipped between Deny and Allow of TCP/%d to a loaded pod, %d changes "+
		"per configuration; time from the write through `internal/client` to the first new TCP connection (one every ~1 ms, each "+
		"from a new port) that sees the new verdict. Baseline (floor): the same probe after the same verdict is written directly "+
		"with `nft -f` into a table of its own, interleaved with the Felix changes. \"One rule into `inet calico`\": the wall time "+
		"of `nft -f` adding one rule to a scratch chain of Felix's table (no probe): the kernel validates the whole table's jump "+
		"graph on every commit that adds a rule, so this is the least any policy change into that table can cost. "+
		"Configurations: `ipv6Support: false` is what `manifests/tricolor.yaml` (like Calico's `calico.yaml`) sets for an IPv4 "+
		"cluster; then the same node switched to `ipv6Support: true` (every selector set and address rule also rendered for "+
		"IPv6, twice the rules).\n\n", probePort, len(lats[0].felix))
	md.WriteString("| Felix configuration | percentile | nft, own table (floor) | nft, one rule into `inet calico` | datastore → Felix → nft (target p99 < 100 ms) | Felix / floor | of which calc graph | of which dataplane apply |\n|---|---|---|---|---|---|---|---|\n")
	for _, lat := range lats {
		cfg := "`ipv6Support: false`"
		if lat.ipv6 {
			cfg = "`ipv6Support: true`"
		}
		for _, p := range []float64{50, 99, 100} {
			name := fmt.Sprintf("p%.0f", p)
			if p == 100 {
				name = "max"
			}
			a, m, f := stats.Percentile(lat.floor, p), stats.Percentile(lat.inFelixTable, p), stats.Percentile(lat.felix, p)
			fmt.Fprintf(md, "| %s | %s | %.1f ms | %.1f ms | %.1f ms | %.1f× | %.1f ms | %.1f ms |\n", cfg, name, msec(a), msec(m), msec(f),
				msec(f)/msec(a), msec(stats.Percentile(lat.calc, p)), msec(stats.Percentile(lat.apply, p)))
		}
	}
	md.WriteString("\nCalc graph and apply columns: Felix's own histograms for the flips that caused exactly one calc batch and one apply.\n\n")
}
