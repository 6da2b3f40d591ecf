package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedLab_TwoNodesOnTwoSubnets is the lab's main story: two
// nodes on two subnets joined by the fabric's router, two pods on node-1
// and one on node-2. What a user would check: the nodes registered with
// their addresses, every pod got its own address from the pool and a
// WorkloadEndpoint with its labels, pods on one node reach each other, and
// `down` leaves nothing behind. Cross-node traffic waits for Felix/BGP.
func TestPrivilegedLab_TwoNodesOnTwoSubnets(t *testing.T) {
	testutil.RequireRoot(t)
	before := snapshotRoot(t)
	topo, err := FlagTopology(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	for _, p := range []PodSpec{
		{Name: "a", Node: "node-1", Labels: map[string]string{"app": "a"}},
		{Name: "b", Node: "node-1", Labels: map[string]string{"app": "b"}},
		{Name: "c", Namespace: "prod", Node: "node-2", Labels: map[string]string{"app": "c", "tier": "db"}},
	} {
		if _, err := l.AddPod(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	c, closeC, err := l.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer closeC()

	t.Run("FabricRoutesBetweenSubnets", func(t *testing.T) {
		if out, err := execIn(ctx, NodeNetns(l.RunID(), "node-1"), "ping", "-c", "1", "-W", "2", "198.18.2.2"); err != nil {
			t.Errorf("node-1 (198.18.1.0/24) cannot reach node-2 (198.18.2.0/24) through the fabric: %v\n%s", err, out)
		}
		if out, _ := ipCmd(ctx, "-n", NodeNetns(l.RunID(), "node-2"), "route", "show", "default"); !strings.Contains(out, "via 198.18.2.1 dev eth0") {
			t.Errorf("node-2's default route is not via its subnet's gateway: %q", out)
		}
	})

	t.Run("NodesRegisteredWithTheirAddresses", func(t *testing.T) {
		want := map[string]string{"node-1": "198.18.1.2/24", "node-2": "198.18.2.2/24"}
		nodes, _, err := client.List[*v3.Node](ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, n := range nodes {
			if n.Spec.BGP != nil {
				got[n.Name] = n.Spec.BGP.IPv4Address
			}
		}
		for name, addr := range want {
			if got[name] != addr {
				t.Errorf("Node %s has address %q, want %s (all: %v)", name, got[name], addr, got)
			}
		}
	})

	t.Run("PodsHaveDistinctPoolAddressesAndEndpoints", func(t *testing.T) {
		pool := netip.MustParsePrefix("10.244.0.0/16")
		seen := map[string]string{}
		for _, p := range l.Pods() {
			a, err := netip.ParseAddr(p.IP)
			if err != nil || !pool.Contains(a) {
				t.Errorf("pod %s address %q is not in %s", p.Key(), p.IP, pool)
			}
			if other, dup := seen[p.IP]; dup {
				t.Errorf("pods %s and %s share %s", p.Key(), other, p.IP)
			}
			seen[p.IP] = p.Key()
		}
		if len(seen) != 3 {
			t.Fatalf("%d pods with addresses, want 3: %v", len(seen), seen)
		}
		weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		byPod := map[string]*v3.WorkloadEndpoint{}
		for _, w := range weps {
			byPod[w.Namespace+"/"+w.Spec.Pod] = w
		}
		for _, p := range l.Pods() {
			w := byPod[p.Key()]
			if w == nil {
				t.Errorf("no WorkloadEndpoint for pod %s (have %d)", p.Key(), len(weps))
				continue
			}
			if w.Spec.Node != p.Node || len(w.Spec.IPNetworks) != 1 || w.Spec.IPNetworks[0] != p.IP+"/32" || w.Spec.InterfaceName != p.HostIface {
				t.Errorf("WorkloadEndpoint %s: node %s, ipNetworks %v, interface %s; want %s, [%s/32], %s",
					w.Name, w.Spec.Node, w.Spec.IPNetworks, w.Spec.InterfaceName, p.Node, p.IP, p.HostIface)
			}
			for k, v := range p.Labels {
				if w.Labels[k] != v {
					t.Errorf("WorkloadEndpoint %s: label %s=%q, want %q", w.Name, k, w.Labels[k], v)
				}
			}
		}
		if _, err := client.Get[*v3.Profile](ctx, c, "", "kns.prod"); err != nil {
			t.Errorf("namespace profile kns.prod: %v", err)
		}
	})

	t.Run("SameNodePodsPingEachOther", func(t *testing.T) {
		// Felix drops a brand-new pod's traffic until it has programmed the
		// pod's endpoint (as Calico does): allow it a few seconds.
		for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
			if err := pingWithin(ctx, l, pair[0], pair[1], 15*time.Second); err != nil {
				t.Error(err)
			}
		}
		m, err := l.Matrix(ctx, MatrixOptions{Proto: ProtoTCP})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("TCP matrix:\n%s", m)
		if !m.OK[0][1] || !m.OK[1][0] { // default/a <-> default/b
			t.Errorf("TCP between same-node pods failed:\n%s", m)
		}
	})

	t.Run("UDPMatrixBetweenSameNodePods", func(t *testing.T) {
		m, err := l.Matrix(ctx, MatrixOptions{Proto: ProtoUDP, Port: 5353})
		if err != nil {
			t.Fatal(err)
		}
		if !m.OK[0][1] || !m.OK[1][0] {
			t.Errorf("UDP between same-node pods failed:\n%s", m)
		}
	})

	t.Run("NodeRestartKeepsPodsTalking", func(t *testing.T) {
		if err := l.StopNode(ctx, "node-1"); err != nil {
			t.Fatal(err)
		}
		if err := l.Ping(ctx, "a", "b", 2*time.Second); err != nil {
			t.Errorf("with calico-node stopped: %v", err)
		}
		if err := l.StartNode(ctx, "node-1"); err != nil {
			t.Fatal(err)
		}
		s, err := l.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Nodes[0].Running || s.Nodes[0].Registered != "198.18.1.2/24" {
			t.Errorf("after restart: %+v", s.Nodes[0])
		}
	})

	t.Run("DatastoreDownPodsKeepTalkingAndBackNewPodsWork", func(t *testing.T) {
		if err := l.StopDatastore(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Ping(ctx, "b", "a", 2*time.Second); err != nil {
			t.Errorf("with the datastore down: %v", err)
		}
		if err := l.StartDatastore(ctx); err != nil {
			t.Fatal(err)
		}
		p, err := l.AddPod(ctx, PodSpec{Name: "late", Node: "node-1"})
		if err != nil {
			t.Fatal(err)
		}
		// Felix drops a new pod's traffic until it has programmed the pod's
		// endpoint (as Calico does), which takes a moment after the
		// datastore comes back: retry for a few seconds.
		if err := pingWithin(ctx, l, "late", "a", 15*time.Second); err != nil {
			t.Errorf("new pod %s after the datastore came back: %v", p.IP, err)
		}
		if err := l.DelPod(ctx, "late"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("PodDeleteReleasesEverything", func(t *testing.T) {
		if _, err := l.AddPod(ctx, PodSpec{Name: "tmp", Node: "node-2"}); err != nil {
			t.Fatal(err)
		}
		if err := l.DelPod(ctx, "tmp"); err != nil {
			t.Fatal(err)
		}
		if netnsExists(PodNetns(l.RunID(), "default", "tmp")) {
			t.Error("pod namespace left after pod del")
		}
		if _, err := l.Pod("tmp"); err == nil {
			t.Error("pod still in the state after pod del")
		}
		weps, _, _ := client.List[*v3.WorkloadEndpoint](ctx, c, "default")
		for _, w := range weps {
			if w.Spec.Pod == "tmp" {
				t.Errorf("WorkloadEndpoint %s left after pod del", w.Name)
			}
		}
	})

	t.Run("CrossNodePodsPingEachOther", func(t *testing.T) {
		if missing := felixMissing(ctx, l, "node-1"); missing != "" {
			t.Skipf("cross-node pod traffic needs the VXLAN/BGP routes Felix and BGP program, and calico-node does not host Felix/BGP yet (%s); this turns on when they are wired into cmd/calico-node", missing)
		}
		if missing := crossNodeRouteMissing(ctx, l, 10*time.Second); missing != "" {
			t.Skipf("cross-node pod traffic needs a route to every remote pod block; %s (the nodes are on different subnets, so this needs Felix's VXLAN CrossSubnet routes, which are not implemented yet); this turns on when they are", missing)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			m, err := l.Matrix(ctx, MatrixOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Failures()) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("pods cannot all reach each other 30s after creation (%v):\n%s", m.Failures(), m)
			}
			time.Sleep(time.Second)
		}
	})

	st := l.State()
	if err := l.Down(ctx); err != nil {
		t.Fatal(err)
	}
	assertRunGone(t, l.opts.RunRoot, l.RunID(), st.Processes)
	assertNoLabTraceInRoot(t, before, "after down")
}

// pingWithin retries one ping from → to until it succeeds or the timeout ends.
func pingWithin(ctx context.Context, l *Lab, from, to string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := l.Ping(ctx, from, to, 2*time.Second)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// crossNodeRouteMissing waits up to timeout for every node to have a route
// (other than its default route) to every pod on another node, and
// describes the first one still missing ("" when all exist).
func crossNodeRouteMissing(ctx context.Context, l *Lab, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		missing := ""
		for _, from := range l.st.Topology.Nodes {
			for _, p := range l.Pods() {
				if p.Node == from.Name || missing != "" {
					continue
				}
				out, _ := execInEnv(ctx, NodeNetns(l.RunID(), from.Name), nil, "ip", "-4", "route", "show", "match", p.IP)
				specific := false
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if line != "" && !strings.HasPrefix(line, "default") {
						specific = true
					}
				}
				if !specific {
					missing = fmt.Sprintf("%s has no route to pod %s/%s (%s) on %s", from.Name, p.Namespace, p.Name, p.IP, p.Node)
				}
			}
		}
		if missing == "" || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(time.Second)
	}
}

// felixMissing asks the node's calico-node whether it runs Felix; it
// returns calico-node's answer when it does not, "" when it does.
func felixMissing(ctx context.Context, l *Lab, node string) string {
	for i, n := range l.st.Topology.Nodes {
		if n.Name != node {
			continue
		}
		out, err := execInEnv(ctx, NodeNetns(l.RunID(), node), l.nodeEnv(i), l.st.Bins.Node, "-felix-live")
		if err != nil {
			return strings.TrimSpace(out)
		}
		return ""
	}
	return "no node " + node
}

// TestPrivilegedLab_DownCleansUpAfterACrash kills every process of a lab
// with SIGKILL, adds a stray process inside a node namespace, removes the
// state file as if `up` had died before writing it, and runs down: nothing
// may be left. A second down succeeds.
func TestPrivilegedLab_DownCleansUpAfterACrash(t *testing.T) {
	testutil.RequireRoot(t)
	before := snapshotRoot(t)
	topo, _ := FlagTopology(1, 1)
	topo.Datastore = DatastoreExternal
	if testutil.EtcdBinary() == "" {
		topo.Datastore = DatastoreEmbedded
		t.Log("Debian etcd missing: crash test uses the embedded datastore")
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := l.AddPod(ctx, PodSpec{Name: "p", Node: "node-1"}); err != nil {
		t.Fatal(err)
	}
	st := l.State()
	for _, p := range st.Processes {
		if !p.alive() {
			t.Fatalf("%s %s not running before the crash", p.Role, p.Name)
		}
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	}
	// Something else living in a lab namespace (a user's shell, a left
	// iperf3): down must find it without a marker.
	stray := testutilCommand(NodeNetns(l.RunID(), "node-1"), "sleep", "300")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = stray.Wait() }()
	if err := os.Remove(filepath.Join(l.Dir(), StateFile)); err != nil {
		t.Fatal(err)
	}

	if err := Down(ctx, l.opts.RunRoot, l.RunID()); err != nil {
		t.Fatalf("down after crash: %v", err)
	}
	assertRunGone(t, l.opts.RunRoot, l.RunID(), st.Processes)
	if len(stillRunning([]int{stray.Process.Pid})) > 0 {
		t.Error("the stray process in the node namespace survived down")
	}
	assertNoLabTraceInRoot(t, before, "after down")
	if err := Down(ctx, l.opts.RunRoot, l.RunID()); err != nil {
		t.Errorf("second down: %v", err)
	}
}
