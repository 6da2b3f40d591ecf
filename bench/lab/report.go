package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/bench/internal/stats"
)

// runInfo is the run's context, printed with the figures.
type runInfo struct {
	took               time.Duration
	loadStart, loadEnd string
}

// loadAvg is /proc/loadavg's three load averages ("?" if unreadable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// spread is "min–max" of xs with two decimals.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "n/a"
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

// ratio is a/b with two decimals ("n/a" when b is zero).
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// us formats a duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// markdown renders the section body (bench.sh adds the heading).
func markdown(c config, m mtus, tr []pathResult, rd *readyResult, info runInfo) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("`go run ./bench/lab` — a `calico-lab` cluster (3 nodes: node-1 and node-2 on one subnet, node-3 behind the fabric's router on")
	w("another; BGP full mesh, pool `10.244.0.0/16` with VXLAN `CrossSubnet`; real `calico-node` processes, pods through the real CNI")
	w("plugin) against **raw veth routing**: the same shapes built by hand next to it with no Tricolor — pods wired as the CNI plugin")
	w("wires them (eth0 /32, default via 169.254.1.1, proxy ARP, host /32 route, MTU %d), static routes between the same-subnet nodes,", m.pod)
	w("a plain vxlan device with static ARP/FDB entries between the two subnets (MTU %d as `vxlan.calico`); no nftables, no calico-node,", m.vxlan)
	w("no BGP daemon. Both stay up throughout, so background load is alike. %d rounds; in each, every path is measured through", c.rounds)
	w("Tricolor and raw back to back, which goes first alternating. The whole run took %s; load average (1, 5, 15 min)", info.took.Round(time.Second))
	w("%s at the start, %s at the end.", info.loadStart, info.loadEnd)
	w("")
	w("**TCP throughput** — iperf3, one stream, %d s after 1 s of warm-up not counted. Throughput: median of the rounds; ratio =", c.iperfSecs)
	w("Tricolor / raw per round (the two run back to back), median over rounds, with the rounds' range (1.00 = no cost).")
	w("")
	w("| Path | Tricolor | Raw veth routing | Ratio | Rounds' ratios | Retransmits (Tricolor / raw) |")
	w("|---|---|---|---|---|---|")
	for _, p := range tr {
		w("| %s | %.2f Gbit/s | %.2f Gbit/s | %.2f | %s | %d / %d |", p.name, stats.Median(p.tricolor.gbps), stats.Median(p.plain.gbps),
			stats.Median(p.tputRatios), spread(p.tputRatios), p.tricolor.retransmits, p.plain.retransmits)
	}
	w("")
	w("**TCP latency** — 1-byte request/response round trips on one connection (a Go client and echo server with their sockets inside")
	w("the two pods' namespaces; not `ping`), %d per round after %d untimed. p50/p99 over all rounds' samples; ratio = Tricolor / raw", c.rtts, rrWarmup)
	w("of each round's p50, median over rounds, with the rounds' range.")
	w("")
	w("| Path | p50 Tricolor | p50 raw | Ratio | Rounds' ratios | p99 Tricolor | p99 raw |")
	w("|---|---|---|---|---|---|---|")
	for _, p := range tr {
		w("| %s | %s | %s | %.2f | %s | %s | %s |", p.name, us(stats.Percentile(p.tricolor.rtts, 50)), us(stats.Percentile(p.plain.rtts, 50)),
			stats.Median(p.rttRatios), spread(p.rttRatios), us(stats.Percentile(p.tricolor.rtts, 99)), us(stats.Percentile(p.plain.rtts, 99)))
	}
	w("")
	w("**Pod-ready time** — %d pods created back to back on one node through the lab (namespace, CNI ADD via libcni, the pod's", rd.pods)
	w("WorkloadEndpoint), each timed from the start of its creation until a TCP connection from a prober pod on the same node first")
	w("succeeds. Probing starts when creation returns (the pod's address is known then), one attempt at a time, %s each (the", ms(probeAttempt))
	w("resolution). A NetworkPolicy allows only the prober, and the dataplane drops traffic to a workload interface Felix has not")
	w("programmed, so success means `calico-node` programmed the endpoint and its policy. Controls in the same run: a pod created while")
	w("the node's calico-node was stopped stayed unreachable (%t); an outsider pod the policy does not allow was refused (%t).", rd.controlBlocked, rd.outsiderBlocked)
	w("Baseline: the same creation returning, i.e. CNI ADD done — not the same run with Felix disabled, since without Felix a pod")
	w("never becomes reachable (the first control), so ready / ADD is what Felix adds on top of the plugin.")
	w("")
	w("| | p50 | p99 | max |")
	w("|---|---|---|---|")
	row := func(name string, ds []time.Duration) {
		w("| %s | %s | %s | %s |", name, ms(stats.Percentile(ds, 50)), ms(stats.Percentile(ds, 99)), ms(stats.Percentile(ds, 100)))
	}
	row("CNI ADD returned (baseline)", rd.add)
	row("first packet allowed (pod ready)", rd.ready)
	row("ready minus ADD, per pod", rd.afterAdd)
	w("| ratio ready / ADD | %s | %s | |", ratio(float64(stats.Percentile(rd.ready, 50)), float64(stats.Percentile(rd.add, 50))),
		ratio(float64(stats.Percentile(rd.ready, 99)), float64(stats.Percentile(rd.add, 99))))
	w("")
	w("%d of %d pods answered the first probe, sent as creation returned: Felix had programmed them while CNI ADD was still", rd.firstAttempt, rd.pods)
	w("finishing, so for those the true ready time is at most the ADD time. All %d pods were ready %s after the first creation started.",
		rd.pods, rd.total.Round(time.Millisecond))
	return b.String()
}
