package bgp

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// meshCluster builds n Calico nodes on one fabric (198.18.0.11, .12, …),
// each owning one /26 of 10.244.0.0/16, in the default (full mesh) setup.
func meshCluster(t *testing.T, n int) (*testutil.Fabric, []*testutil.Netns, *State) {
	fab := testutil.NewFabric(t)
	st := &State{IPPools: []v3.IPPool{pool("default-ipv4-ippool", "10.244.0.0/16", false)}}
	var nss []*testutil.Netns
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node-%c", 'a'+i)
		addr := fmt.Sprintf("198.18.0.%d", 11+i)
		nss = append(nss, fab.Attach(t, testutil.NewNetns(t, name), "eth0", addr+"/24"))
		st.Nodes = append(st.Nodes, node(name, addr+"/24", nil))
		st.BlockAffinities = append(st.BlockAffinities, affinity(name, fmt.Sprintf("10.244.%d.0/26", i), v3.StateConfirmed))
	}
	return fab, nss, st
}

// testRestartTime is the graceful-restart time the tests give sessions
// whose stopped node's routes they expect to go away: long enough to see
// the routes kept, short enough to see them withdrawn (the default is
// 120s).
const testRestartTime = 5 * time.Second

// expectKept fails unless every route in want is in ns's kernel now and
// stays there for d (sampled every 50ms).
func expectKept(t *testing.T, ns *testutil.Netns, what string, d time.Duration, want ...string) {
	t.Helper()
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		got := birdRoutes(t, ns)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Fatalf("%s: lost %q: %q", what, w, got)
			}
		}
		if time.Now().After(end) {
			return
		}
	}
}

// waitRoutes waits until ns's proto-bird routes are exactly want.
func waitRoutes(t *testing.T, ns *testutil.Netns, what string, timeout time.Duration, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var got []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		got = birdRoutes(t, ns)
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: after %s the proto bird routes are\n  %s\nwant\n  %s", what, timeout, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
}

func TestPrivilegedMesh_ThreeNodesInstallEachOthersBlocksAndKeepAStoppedNodesUntilItsRestartTime(t *testing.T) {
	testutil.RequireRoot(t)
	_, nss, st := meshCluster(t, 3)
	restart := &metav1.Duration{Duration: testRestartTime}
	st.BGPConfigurations = []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeMeshMaxRestartTime: restart})}
	// A route of another owner in node-a must survive everything.
	nss[0].IP(t, "route", "add", "10.244.200.0/24", "via", "198.18.0.99", "proto", "static")

	var procs []*nodeProc
	for i, ns := range nss {
		procs = append(procs, startNode(t, ns, st.Nodes[i].Name, st))
	}
	start := time.Now()
	want := map[int][]string{
		0: {"blackhole 10.244.0.0/26 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird", "10.244.2.0/26 via 198.18.0.13 dev eth0 proto bird"},
		1: {"10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird", "blackhole 10.244.1.0/26 proto bird", "10.244.2.0/26 via 198.18.0.13 dev eth0 proto bird"},
		2: {"10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird", "blackhole 10.244.2.0/26 proto bird"},
	}
	for i, ns := range nss {
		waitRoutes(t, ns, st.Nodes[i].Name+" converged", 30*time.Second, want[i]...)
	}
	t.Logf("3-node mesh converged in %s", time.Since(start).Round(time.Millisecond))
	for _, p := range procs {
		st := waitEstablished(t, p, 2)
		if st[0].Peer.Type != PeerTypeMesh || st[1].Peer.Type != PeerTypeMesh {
			t.Errorf("%s status = %+v, want mesh peers", p.name, st)
		}
	}

	// Stop node-c (SIGTERM, as for a calico-node restart): it closes its
	// sessions without withdrawing anything, so its peers keep its block
	// through graceful restart (the hold time, 9s here, does not apply)
	// until the restart time it advertised runs out; then it is withdrawn.
	stopAt := time.Now()
	procs[2].stop(syscall.SIGTERM)
	expectKept(t, nss[0], "node-a right after node-c stopped", 2*time.Second, want[0]...)
	expectKept(t, nss[1], "node-b right after node-c stopped", 0, want[1]...)
	waitRoutes(t, nss[0], "node-a after node-c's restart time", 2*testRestartTime, want[0][:2]...)
	waitRoutes(t, nss[1], "node-b after node-c's restart time", 2*testRestartTime, want[1][:2]...)
	t.Logf("node-c's block kept through its stop, withdrawn everywhere %s after it (restart time %s)", time.Since(stopAt).Round(time.Millisecond), testRestartTime)

	if out := nss[0].IP(t, "route", "show", "10.244.200.0/24"); !strings.Contains(out, "via 198.18.0.99") {
		t.Errorf("node-a's static route (not ours) was touched: %q", out)
	}
}

func TestPrivilegedMesh_GracefulRestartKeepsRoutesWhileANodeRestarts(t *testing.T) {
	testutil.RequireRoot(t)
	_, nss, st := meshCluster(t, 2)
	a := startNode(t, nss[0], "node-a", st)
	b := startNode(t, nss[1], "node-b", st)
	_ = a
	fromB := "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird"
	waitRoutes(t, nss[0], "node-a learns node-b's block", 30*time.Second, "blackhole 10.244.0.0/26 proto bird", fromB)

	// Crash node-b (no Cease sent): node-a keeps the route as stale.
	b.stop(syscall.SIGKILL)
	time.Sleep(3 * time.Second)
	if got := birdRoutes(t, nss[0]); !slices.Contains(got, fromB) {
		t.Fatalf("node-a dropped node-b's block during its restart: %q", got)
	}
	// node-b comes back; the route is still there and the session re-forms.
	b.start(t)
	waitEstablished(t, a, 1)
	waitRoutes(t, nss[0], "node-a after node-b restarted", 10*time.Second, "blackhole 10.244.0.0/26 proto bird", fromB)

	// Now node-a's own agent restarts: the routes it installed stay in its
	// kernel the whole time, and a stale proto-bird route nobody
	// advertises any more is swept once the sessions are back.
	nss[0].IP(t, "route", "add", "10.244.77.0/26", "via", "198.18.0.12", "proto", "bird")
	a.stop(syscall.SIGKILL)
	a.start(t)
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got := birdRoutes(t, nss[0]); !slices.Contains(got, fromB) {
			t.Fatalf("node-a's kernel lost node-b's block while its agent restarted: %q", got)
		}
	}
	waitEstablished(t, a, 1)
	waitRoutes(t, nss[0], "node-a sweeps the stale route after converging", 15*time.Second, "blackhole 10.244.0.0/26 proto bird", fromB)
}

// waitEstablished waits until the node reports n peers, all established.
func waitEstablished(t *testing.T, p *nodeProc, n int) []PeerStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := p.status()
		up := 0
		for _, s := range st {
			if s.Established() {
				up++
			}
		}
		if len(st) == n && up == n {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want %d established peers, status %+v", p.name, n, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
