package bgp

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The topology from Calico's docs: node-to-node mesh off, two nodes
// labelled as route reflectors with one cluster ID, and one BGPPeer that
// peers every node with the route reflectors.
func TestPrivilegedRouteReflectors_ClientsLearnAllBlocksAndSurviveLosingOneRR(t *testing.T) {
	testutil.RequireRoot(t)
	off := false
	_, nss, st := meshCluster(t, 6) // node-a, node-b: RRs; node-c…f: clients
	for i := 0; i < 2; i++ {
		st.Nodes[i].Labels = map[string]string{"route-reflector": "true"}
		st.Nodes[i].Spec.BGP.RouteReflectorClusterID = "244.0.0.1"
	}
	st.BGPConfigurations = []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off})}
	st.BGPPeers = []v3.BGPPeer{bgpPeer("peer-with-route-reflectors", v3.BGPPeerSpec{NodeSelector: "all()", PeerSelector: "route-reflector == 'true'"})}

	procs := make([]*nodeProc, len(nss))
	for i, ns := range nss {
		procs[i] = startNode(t, ns, st.Nodes[i].Name, st)
	}
	// expected routes on node i, leaving out the blocks of the nodes in gone.
	expect := func(i int, gone ...int) []string {
		var out []string
	next:
		for j := range nss {
			for _, g := range gone {
				if j == g {
					continue next
				}
			}
			if j == i {
				out = append(out, fmt.Sprintf("blackhole 10.244.%d.0/26 proto bird", j))
			} else {
				out = append(out, fmt.Sprintf("10.244.%d.0/26 via 198.18.0.%d dev eth0 proto bird", j, 11+j))
			}
		}
		return out
	}
	start := time.Now()
	for i := range nss {
		waitRoutes(t, nss[i], st.Nodes[i].Name+" learns every block", 30*time.Second, expect(i)...)
	}
	t.Logf("2 RRs + 4 clients converged in %s", time.Since(start).Round(time.Millisecond))
	// Clients peer with the two RRs only; RRs with each other and all clients.
	waitEstablished(t, procs[2], 2)
	rr := waitEstablished(t, procs[0], 5)
	clients := 0
	for _, s := range rr {
		if s.Peer.RRClient {
			clients++
		}
	}
	if clients != 4 {
		t.Errorf("node-a (RR) has %d RR clients, want 4: %+v", clients, rr)
	}

	// Lose route reflector node-a: clients keep every other block via node-b.
	// Sample node-c while it happens: no other block may blink out.
	procs[0].stop(syscall.SIGTERM)
	want := expect(2, 0)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		got := birdRoutes(t, nss[2])
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Fatalf("node-c lost %q while RR node-a went away: %q", w, got)
			}
		}
	}
	for i := 1; i < len(nss); i++ {
		waitRoutes(t, nss[i], st.Nodes[i].Name+" after losing one RR", 15*time.Second, expect(i, 0)...)
	}
}
