package bgp

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	st.BGPPeers = []v3.BGPPeer{bgpPeer("peer-with-route-reflectors", v3.BGPPeerSpec{NodeSelector: "all()", PeerSelector: "route-reflector == 'true'",
		MaxRestartTime: &metav1.Duration{Duration: testRestartTime}})}

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

	// Stop route reflector node-a: through graceful restart nothing blinks
	// out on a client (sampled on node-c), not even node-a's own block;
	// once node-a's restart time is over its block is gone and clients
	// keep every other block via node-b.
	procs[0].stop(syscall.SIGTERM)
	expectKept(t, nss[2], "node-c while RR node-a is stopped", 2*time.Second, expect(2)...)
	for i := 1; i < len(nss); i++ {
		waitRoutes(t, nss[i], st.Nodes[i].Name+" after losing one RR", 3*testRestartTime, expect(i, 0)...)
	}
}
