package bgp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// ingestPrefixes is the size of the route set each direction carries.
const ingestPrefixes = 10000

// ingestBlocks returns n /26 prefixes in 10.192.0.0/12 (routes only inside
// the test namespaces; no traffic is sent).
func ingestBlocks(n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	base := netip.MustParseAddr("10.192.0.0")
	for i := range out {
		a, _ := addOrdinal(base, i*64)
		out[i] = netip.PrefixFrom(a, 26)
	}
	return out
}

// countBirdRoutes counts ns's IPv4 proto-bird routes.
func countBirdRoutes(t testing.TB, ns *testutil.Netns) int {
	out := ns.IP(t, "-4", "route", "show", "proto", "bird")
	return strings.Count(out, "\n")
}

func waitCount(t testing.TB, ns *testutil.Netns, want int, timeout time.Duration) time.Duration {
	start := time.Now()
	for {
		if n := countBirdRoutes(t, ns); n >= want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("only %d of %d routes after %s", countBirdRoutes(t, ns), want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkPrivilegedIngest10k measures, in one run, how fast 10,000
// prefixes get from a bird2 peer into our kernel, against the baseline of
// bird2 taking the same 10,000 prefixes from our speaker into its kernel.
// Each figure runs from the first to the last of the routes appearing in
// the receiving kernel (session set-up excluded; the count is polled every
// 50ms, so figures are ±50ms). Run with
//
//	go test -run '^$' -bench PrivilegedIngest -benchtime=1x ./internal/bgp/
func BenchmarkPrivilegedIngest10k(b *testing.B) {
	testutil.RequireRoot(b)
	requireTool(b, "bird", "bird2")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		inbound, outbound := runIngestOnce(b)
		if inbound > 0 && outbound > 0 {
			b.Logf("ingest of %d prefixes: ours %s, bird2 %s; ours/bird2 speed ratio %.2f",
				ingestPrefixes, inbound.Round(time.Millisecond), outbound.Round(time.Millisecond), outbound.Seconds()/inbound.Seconds())
		}
	}
}

// runIngestOnce returns the time for our node to ingest bird's 10k routes
// and the time for bird to ingest our 10k routes, each in fresh namespaces.
func runIngestOnce(b *testing.B) (inbound, outbound time.Duration) {
	blocks := ingestBlocks(ingestPrefixes)
	b.Run("bird-to-ours", func(b *testing.B) {
		fab := testutil.NewFabric(b)
		node := fab.Attach(b, testutil.NewNetns(b, "node-a"), "eth0", "198.18.0.11/24")
		tor := fab.Attach(b, testutil.NewNetns(b, "tor"), "eth0", "198.18.0.1/24")
		var conf strings.Builder
		conf.WriteString(torBirdConf("198.18.0.11"))
		conf.WriteString("protocol static bulk { ipv4; \n")
		for _, p := range blocks {
			fmt.Fprintf(&conf, "route %s blackhole;\n", p)
		}
		conf.WriteString("}\n")
		startBird(b, tor, conf.String())
		st := &State{Nodes: []v3.Node{node0()}, BGPPeers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: 65000})}}
		startNode(b, node, "node-a", st)
		waitCount(b, node, 1, time.Minute)
		// +2: the ToR's own 10.250.0.0/24 and 10.250.1.0/24.
		inbound = waitCount(b, node, ingestPrefixes+2, 5*time.Minute)
		b.ReportMetric(float64(ingestPrefixes)/inbound.Seconds(), "routes/s")
		b.Logf("our node ingested %d prefixes from bird2 in %s (first to last route in the kernel)", ingestPrefixes, inbound.Round(time.Millisecond))
	})
	b.Run("ours-to-bird", func(b *testing.B) {
		fab := testutil.NewFabric(b)
		node := fab.Attach(b, testutil.NewNetns(b, "node-a"), "eth0", "198.18.0.11/24")
		tor := fab.Attach(b, testutil.NewNetns(b, "tor"), "eth0", "198.18.0.1/24")
		startBird(b, tor, torBirdConf("198.18.0.11"))
		st := &State{
			Nodes:    []v3.Node{node0()},
			IPPools:  []v3.IPPool{pool("bulk", "10.192.0.0/12", false)},
			BGPPeers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: 65000})},
		}
		for _, p := range blocks {
			st.BlockAffinities = append(st.BlockAffinities, affinity("node-a", p.String(), v3.StateConfirmed))
		}
		startNode(b, node, "node-a", st)
		waitCount(b, tor, 1, time.Minute)
		outbound = waitCount(b, tor, ingestPrefixes, 5*time.Minute)
		b.ReportMetric(float64(ingestPrefixes)/outbound.Seconds(), "routes/s")
		b.Logf("bird2 ingested %d prefixes from our node in %s (first to last route in the kernel)", ingestPrefixes, outbound.Round(time.Millisecond))
	})
	return inbound, outbound
}

func node0() v3.Node { return node("node-a", "198.18.0.11/24", nil) }
