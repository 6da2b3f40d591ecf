package bgp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// birdProc is a real BIRD 2 daemon (Debian's bird2) running in a test
// namespace, with its control socket in a private temp dir.
type birdProc struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// requireTool skips (or, under CI, fails) when a Debian tool is missing.
func requireTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if testutil.InCI() {
			t.Fatalf("%s not found; CI must install Debian package %s (make deps)", tool, pkg)
		}
		t.Skipf("%s not found; install Debian package %s (make deps)", tool, pkg)
	}
}

// startBird writes conf and runs `bird -f` inside ns until the test ends.
func startBird(t testing.TB, ns *testutil.Netns, conf string) *birdProc {
	t.Helper()
	requireTool(t, "bird", "bird2")
	// A short path: unix socket names are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "bird")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b := &birdProc{dir: dir, done: make(chan struct{})}
	if err := os.WriteFile(filepath.Join(dir, "bird.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = ns.Command("bird", "-f", "-c", filepath.Join(dir, "bird.conf"), "-s", filepath.Join(dir, "bird.ctl"), "-P", filepath.Join(dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.cmd.Wait(); log.Close(); close(b.done) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("birdc show protocols all:\n%s", b.birdc("show", "protocols", "all"))
		}
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		if t.Failed() {
			out, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("bird log:\n%s", tail(string(out), 3000))
		}
	})
	return b
}

// birdc runs a command on BIRD's control socket.
func (b *birdProc) birdc(args ...string) string {
	out, err := exec.Command("birdc", append([]string{"-s", filepath.Join(b.dir, "bird.ctl")}, args...)...).CombinedOutput()
	if err != nil {
		return err.Error() + ": " + string(out)
	}
	return string(out)
}

// torBirdConf is a top-of-rack router in AS 65000 at 198.18.0.1 peering
// with the given node addresses (AS 64512), originating 10.250.0.0/24 and
// 10.250.1.0/24, and
// installing what it learns into its kernel.
func torBirdConf(nodes ...string) string {
	var b strings.Builder
	b.WriteString(`log stderr all;
router id 198.18.0.1;
protocol device { scan time 2; }
protocol kernel {
	ipv4 { import none; export where source = RTS_BGP; };
	metric 0;
}
protocol static { ipv4; route 10.250.0.0/24 blackhole; route 10.250.1.0/24 blackhole; }
template bgp calico {
	local 198.18.0.1 as 65000;
	hold time 9;
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 5;
	ipv4 { import all; export where source ~ [RTS_STATIC, RTS_BGP]; };
}
`)
	for i, n := range nodes {
		b.WriteString("protocol bgp node" + string(rune('a'+i)) + " from calico { neighbor " + n + " as 64512; }\n")
	}
	return b.String()
}

// torCluster is the ToR topology from Calico's docs without the ToR's
// daemon: two mesh nodes (meshCluster) and a ToR namespace at 198.18.0.1
// in AS 65000 on the same fabric, peered by a global BGPPeer with
// keepOriginalNextHop (so the ToR sends traffic straight to the node that
// owns each block). Sessions use testRestartTime as graceful-restart time.
func torCluster(t *testing.T) (nodes []*testutil.Netns, tor *testutil.Netns, st *State) {
	fab, nodes, st := meshCluster(t, 2)
	tor = fab.Attach(t, testutil.NewNetns(t, "tor"), "eth0", "198.18.0.1/24")
	st.BGPPeers = []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: 65000, KeepOriginalNextHop: true,
		MaxRestartTime: &metav1.Duration{Duration: testRestartTime}})}
	st.BGPConfigurations = []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{
		NodeMeshMaxRestartTime: &metav1.Duration{Duration: testRestartTime}})}
	return nodes, tor, st
}

// The ToR topology from Calico's docs: nodes in a mesh, all peering with a
// ToR over eBGP (a global BGPPeer, keepOriginalNextHop so the ToR sends
// traffic straight to the node owning each block), then a BGPFilter
// applied live, then a node stopping.
func TestPrivilegedBird_EBGPWithToRRoutesFlowBothWaysAndFiltersApply(t *testing.T) {
	testutil.RequireRoot(t)
	requireTool(t, "bird", "bird2")
	nss, tor, st := torCluster(t)

	bird := startBird(t, tor, torBirdConf("198.18.0.11", "198.18.0.12"))
	a := startNode(t, nss[0], "node-a", st)
	b := startNode(t, nss[1], "node-b", st)
	start := time.Now()

	tor0 := "10.250.0.0/24 via 198.18.0.1 dev eth0 proto bird"
	tor1 := "10.250.1.0/24 via 198.18.0.1 dev eth0 proto bird"
	blockA := "10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird"
	blockB := "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird"
	waitRoutes(t, nss[0], "node-a learns the ToR's prefixes and node-b's block", 30*time.Second,
		"blackhole 10.244.0.0/26 proto bird", blockB, tor0, tor1)
	waitRoutes(t, nss[1], "node-b learns the ToR's prefixes and node-a's block", 30*time.Second,
		blockA, "blackhole 10.244.1.0/26 proto bird", tor0, tor1)
	// BIRD installs our blocks with its kernel protocol, next hop the node
	// owning each block.
	waitRoutes(t, tor, "the ToR's kernel has both blocks", 30*time.Second, blockA, blockB)
	t.Logf("eBGP with bird2 converged in %s", time.Since(start).Round(time.Millisecond))

	for _, n := range []*nodeProc{a, b} {
		st := waitEstablished(t, n, 2)
		var types []string
		for _, s := range st {
			types = append(types, s.Peer.Name+"="+string(s.Peer.Type))
		}
		if !strings.Contains(strings.Join(types, " "), "Global_198_18_0_1=global") {
			t.Errorf("%s peers %q, want the ToR as a global peer", n.name, types)
		}
	}
	if out := bird.birdc("show", "protocols"); strings.Count(out, "Established") != 2 {
		t.Errorf("bird sessions not both established:\n%s", out)
	}

	// A BGPFilter on the ToR peering, applied live: node-a's block is not
	// exported to the ToR, and the ToR's 10.250.1.0/24 is not imported.
	st.BGPFilters = []v3.BGPFilter{{ObjectMeta: metav1.ObjectMeta{Name: "tor-filter"}, Spec: v3.BGPFilterSpec{
		ExportV4: []v3.BGPFilterRuleV4{{CIDR: "10.244.0.0/26", MatchOperator: v3.MatchOperatorEqual, Action: v3.FilterActionReject}},
		ImportV4: []v3.BGPFilterRuleV4{{CIDR: "10.250.1.0/24", MatchOperator: v3.MatchOperatorIn, Action: v3.FilterActionReject}},
	}}}
	st.BGPPeers[0].Spec.Filters = []string{"tor-filter"}
	a.writeState(t, st)
	b.writeState(t, st)
	waitRoutes(t, tor, "the ToR after the export filter", 15*time.Second, blockB)
	waitRoutes(t, nss[0], "node-a after the import filter", 15*time.Second, "blackhole 10.244.0.0/26 proto bird", blockB, tor0)
	waitRoutes(t, nss[1], "node-b after the import filter", 15*time.Second, blockA, "blackhole 10.244.1.0/26 proto bird", tor0)

	// node-b stops (a calico-node restart): BIRD, a graceful-restart
	// helper by default, keeps its block while node-b's restart time runs,
	// then withdraws it from its kernel, and node-a loses it too; node-a
	// keeps the ToR's prefix.
	b.stop(syscall.SIGTERM)
	expectKept(t, tor, "the ToR right after node-b stopped", time.Second, blockB)
	waitRoutes(t, tor, "the ToR after node-b's restart time", 3*testRestartTime)
	waitRoutes(t, nss[0], "node-a after node-b's restart time", 3*testRestartTime, "blackhole 10.244.0.0/26 proto bird", tor0)
}
