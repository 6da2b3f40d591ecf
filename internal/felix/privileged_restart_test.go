package felix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The restart test runs the real calico-node binary (startup + Felix)
// inside a node namespace against an external etcd, with two pods wired
// like Calico's CNI does and a remote node reached over VXLAN.

const (
	restartNode = "restartnode"
	remoteNode  = "remotenode"
	nodeAddr    = "198.18.3.1"
	remoteAddr  = "198.18.3.2"
	iperfPort   = 5201
)

// agent is one calico-node process in the node namespace.
type agent struct {
	cmd  *exec.Cmd
	logs *strings.Builder
	done chan struct{}
}

func startAgent(t *testing.T, ns *testutil.Netns, bin string, env []string) *agent {
	t.Helper()
	a := &agent{cmd: ns.Command(bin), logs: &strings.Builder{}, done: make(chan struct{})}
	a.cmd.Env = env
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start calico-node: %v", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() { a.kill(); <-a.done })
	return a
}

// kill sends SIGKILL: no shutdown path runs, as when the process crashes
// or is OOM-killed.
func (a *agent) kill() {
	select {
	case <-a.done:
	default:
		_ = a.cmd.Process.Kill()
	}
}

// restartPod is a pod namespace wired to the node as Calico's CNI does.
type restartPod struct {
	ns    *testutil.Netns
	name  string
	iface string
	ip    netip.Addr
}

func wireRestartPod(t *testing.T, node *testutil.Netns, name, iface string, ip netip.Addr) *restartPod {
	t.Helper()
	p := &restartPod{ns: testutil.NewNetns(t, name), name: name, iface: iface, ip: ip}
	node.IP(t, "link", "add", iface, "address", "ee:ee:ee:ee:ee:ee", "type", "veth", "peer", "name", "eth0", "netns", p.ns.Name)
	node.Exec(t, "sysctl", "-qw", "net.ipv4.conf."+iface+".proxy_arp=1", "net.ipv4.neigh."+iface+".proxy_delay=0")
	node.IP(t, "link", "set", iface, "up")
	node.IP(t, "route", "add", ip.String()+"/32", "dev", iface, "scope", "link")
	p.ns.IP(t, "addr", "add", ip.String()+"/32", "dev", "eth0")
	p.ns.IP(t, "link", "set", "eth0", "up")
	p.ns.IP(t, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
	p.ns.IP(t, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
	return p
}

func (p *restartPod) endpoint(labels map[string]string) *v3.WorkloadEndpoint {
	w := v3.NewWorkloadEndpoint()
	w.Namespace, w.Name, w.Labels = "prod", restartNode+"-k8s-"+p.name+"-eth0", labels
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: restartNode, Pod: p.name, Endpoint: "eth0",
		IPNetworks: []string{p.ip.String() + "/32"}, InterfaceName: p.iface, MAC: "ee:ee:ee:ee:ee:ee",
		Profiles: []string{"kns.prod"}}
	return w
}

// TestPrivilegedFelix_AgentKilledDuringIperfStream runs calico-node in a
// node namespace, streams iperf3 between two of its pods through the
// policy, SIGKILLs the agent mid-stream and starts it again:
//   - the stream has no interval without bytes and completes;
//   - the restarted agent keeps the nft table: same rule handles, and the
//     table's packet counters never go down (nothing flushed or recreated);
//   - a hand-deleted VXLAN route to the remote node's block, a
//     hand-deleted workload device route and a hand-deleted policy rule
//     are restored by the restarted agent's
//     periodic read-back.
func TestPrivilegedFelix_AgentKilledDuringIperfStream(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tool := range []string{"nft", "iperf3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	ctx := context.Background()
	dir := t.TempDir()
	bin := testutil.BuildBinary(t, "github.com/tricolor-net/tricolor/cmd/calico-node")
	etcdProc := testutil.StartEtcdProcess(t)
	be, err := etcd.New(etcd.Config{Endpoints: []string{etcdProc.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	c := client.New(be)
	ipamc := ipam.New(be, ipam.Options{})

	// The node: eth0 to a peer namespace (the remote node's address lives
	// there; nothing routes out of it), the datastore forwarded onto the
	// node's loopback.
	node := testutil.NewNetns(t, "rnode")
	remote := testutil.NewNetns(t, "rremote")
	testutil.Veth(t, node, "eth0", remote, "eth0")
	node.IP(t, "addr", "add", nodeAddr+"/24", "dev", "eth0")
	remote.IP(t, "addr", "add", remoteAddr+"/24", "dev", "eth0")
	node.IP(t, "route", "add", "default", "via", remoteAddr)
	node.Exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	etcdInNode := testutil.ForwardIntoNetns(t, "/run/netns/"+node.Name, strings.TrimPrefix(etcdProc.Endpoint, "http://"))
	env := append(os.Environ(), "NODENAME="+restartNode, "IP="+nodeAddr+"/24",
		"DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS=http://"+etcdInNode,
		"CALICO_NETWORKING_BACKEND=vxlan", "CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=Always",
		"TRICOLOR_VAR_LIB_DIR="+dir, "TRICOLOR_RUN_DIR="+dir,
		"FELIX_IPTABLESREFRESHINTERVAL=2", "FELIX_HEALTHPORT=19199")

	// First run: startup creates the pool and the node's VXLAN tunnel
	// address; then the pods get addresses from this node's block, as the
	// CNI plugin's IPAM would give them.
	a := startAgent(t, node, bin, env)
	waitFor(t, 60*time.Second, "calico-node ready", a, func() bool { return felixReady(node, bin, env) })
	addrs := func(host string, n int) []netip.Addr {
		v4, _, err := ipamc.AutoAssign(ctx, ipam.AutoAssignArgs{Num4: n, HandleID: "test-" + host, Hostname: host})
		if err != nil {
			t.Fatalf("IPAM for %s: %v", host, err)
		}
		return v4.Addrs()
	}
	podIPs := addrs(restartNode, 2)
	srv := wireRestartPod(t, node, "rsrv", "calisrv", podIPs[0])
	cli := wireRestartPod(t, node, "rcli", "calicli", podIPs[1])

	// The remote node: a block and a VTEP (its tunnel address from its
	// block), so Felix programs a proto-80 route over vxlan.calico.
	remoteIPs := addrs(remoteNode, 1)
	rn := v3.NewNode()
	rn.Name = remoteNode
	rn.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: remoteAddr + "/24"}
	rn.Spec.IPv4VXLANTunnelAddr, rn.Spec.VXLANTunnelMACAddr = remoteIPs[0].String(), "66:0a:0b:0c:0d:0e"
	remoteBlock := netip.PrefixFrom(remoteIPs[0], 26).Masked().String()

	ns := v3.NewProfile()
	ns.Name = "kns.prod"
	ns.Spec.LabelsToApply = map[string]string{"pcns.projectcalico.org/name": "prod"}
	ns.Spec.Ingress, ns.Spec.Egress = []v3.Rule{{Action: v3.Allow}}, []v3.Rule{{Action: v3.Allow}}
	pol := v3.NewNetworkPolicy()
	pol.Namespace, pol.Name = "prod", "iperf-only"
	pol.Spec.Selector, pol.Spec.Types = "app == 'iperf-server'", []v3.PolicyType{v3.PolicyTypeIngress}
	tcp := numorstring.ProtocolFromString("TCP")
	pol.Spec.Ingress = []v3.Rule{{Action: v3.Allow, Protocol: &tcp,
		Source:      v3.EntityRule{Selector: "app == 'iperf-client'"},
		Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.SinglePort(iperfPort)}}}}
	for _, r := range []v3.Resource{rn, ns, pol, srv.endpoint(map[string]string{"app": "iperf-server"}), cli.endpoint(map[string]string{"app": "iperf-client"})} {
		if _, err := c.Apply(ctx, r); err != nil {
			t.Fatalf("write %s %s: %v", r.GetObjectKind().GroupVersionKind().Kind, r.GetName(), err)
		}
	}
	table := func() string { return node.Exec(t, "nft", "list", "table", "inet", "calico") }
	routeLine := func() string { return node.IP(t, "route", "show", remoteBlock) }
	// No BGP agent (backend vxlan): Felix blackholes this node's block.
	localBlock := netip.PrefixFrom(podIPs[0], 26).Masked().String()
	blackholeLine := func() string { return node.IP(t, "route", "show", localBlock) }
	waitFor(t, 30*time.Second, "policy, VXLAN route and local blackhole programmed", a, func() bool {
		return strings.Contains(table(), `"calisrv" : goto tw-calisrv`) && strings.Contains(table(), "chain pi-default/prod/iperf-only") &&
			strings.Contains(routeLine(), "vxlan.calico") && strings.Contains(blackholeLine(), "blackhole")
	})
	if r := routeLine(); !strings.Contains(r, "proto 80") || !strings.Contains(r, "via "+remoteIPs[0].String()) {
		t.Fatalf("route to the remote block %s is %q, want via %s dev vxlan.calico proto 80", remoteBlock, r, remoteIPs[0])
	}
	if r := blackholeLine(); strings.TrimSpace(r) != "blackhole "+localBlock+" proto 80" {
		t.Fatalf("route to this node's block %s is %q, want blackhole %s proto 80", localBlock, r, localBlock)
	}

	// The stream: 10 s of iperf3 at a bounded rate (the machine is shared).
	server := srv.ns.Command("iperf3", "-s", "-p", strconv.Itoa(iperfPort))
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Process.Kill(); _ = server.Wait() })
	waitFor(t, 10*time.Second, "iperf3 server listening", a, func() bool {
		out, _ := srv.ns.Command("ss", "-ltnH", "sport", "= :"+strconv.Itoa(iperfPort)).Output()
		return strings.Contains(string(out), "LISTEN")
	})
	handlesBefore := ruleHandles(t, node)
	countersBefore := tableCounters(t, node)

	clientOut := make(chan []byte, 1)
	clientErr := make(chan error, 1)
	go func() {
		out, err := cli.ns.Command("iperf3", "-c", srv.ip.String(), "-p", strconv.Itoa(iperfPort),
			"-t", "10", "-i", "1", "-b", "100M", "--json").Output()
		clientOut <- out
		clientErr <- err
	}()

	// Mid-stream: SIGKILL the agent, leave it dead a moment, start it
	// again with the same environment.
	time.Sleep(2 * time.Second)
	a.kill()
	<-a.done
	countersDead := tableCounters(t, node)
	time.Sleep(1 * time.Second)
	began := time.Now()
	a = startAgent(t, node, bin, env)
	waitFor(t, 30*time.Second, "restarted calico-node ready", a, func() bool { return felixReady(node, bin, env) })
	t.Logf("restarted agent ready %v after start", time.Since(began).Round(time.Millisecond))
	countersRestarted := tableCounters(t, node)

	out, err := <-clientOut, <-clientErr
	if err != nil {
		t.Fatalf("iperf3 client: %v\n%s\n--- agent logs ---\n%s", err, out, a.logs)
	}
	checkIperf(t, out)

	if h := ruleHandles(t, node); h != handlesBefore {
		t.Errorf("rule handles changed across the restart: the table was rewritten\nbefore:\n%s\nafter:\n%s", handlesBefore, h)
	}
	countersAfter := tableCounters(t, node)
	for i, step := range []struct {
		name string
		c    map[string]int
	}{{"agent killed", countersDead}, {"agent restarted", countersRestarted}, {"stream done", countersAfter}} {
		prev := countersBefore
		if i > 0 {
			prev = []map[string]int{countersDead, countersRestarted}[i-1]
		}
		for rule, n := range prev {
			if step.c[rule] < n {
				t.Errorf("%s: counter of %s went from %d to %d (reset: the table was flushed)", step.name, rule, n, step.c[rule])
			}
		}
	}
	if sum(countersAfter) <= sum(countersBefore) {
		t.Errorf("table counters did not grow during the stream (%d before, %d after)", sum(countersBefore), sum(countersAfter))
	}

	// Drift: the route to the remote block is deleted by hand; the
	// restarted agent's read-back (every 2 s here) puts it back.
	node.IP(t, "route", "del", remoteBlock)
	deleted := time.Now()
	waitFor(t, 15*time.Second, "hand-deleted VXLAN route restored", a, func() bool {
		return strings.Contains(routeLine(), "vxlan.calico")
	})
	t.Logf("hand-deleted route restored after %v", time.Since(deleted).Round(time.Millisecond))
	if r := routeLine(); !strings.Contains(r, "proto 80") {
		t.Errorf("restored route %q lacks proto 80", r)
	}

	// Drift: this node's block blackhole is deleted by hand; the
	// read-back puts it back.
	node.IP(t, "route", "del", "blackhole", localBlock)
	deleted = time.Now()
	waitFor(t, 15*time.Second, "hand-deleted local-block blackhole restored", a, func() bool {
		return strings.Contains(blackholeLine(), "blackhole "+localBlock+" proto 80")
	})
	t.Logf("hand-deleted blackhole restored after %v", time.Since(deleted).Round(time.Millisecond))

	// Drift: the server pod's device route (the CNI's, owned by Felix
	// since) is deleted by hand; netlink change detection puts it back
	// with the CNI's protocol, so the two never fight.
	podRoute := srv.ip.String() + "/32"
	wlRouteLine := func() string { return node.IP(t, "-d", "route", "show", podRoute) } // -d prints proto boot
	node.IP(t, "route", "del", podRoute, "dev", srv.iface)
	deleted = time.Now()
	waitFor(t, 15*time.Second, "hand-deleted workload route restored", a, func() bool {
		return strings.Contains(wlRouteLine(), "dev "+srv.iface)
	})
	t.Logf("hand-deleted workload route restored after %v", time.Since(deleted).Round(time.Millisecond))
	if r := wlRouteLine(); !strings.Contains(r, "proto boot") || !strings.Contains(r, "scope link") {
		t.Errorf("restored workload route %q, want %s dev %s proto boot scope link", r, podRoute, srv.iface)
	}

	// Drift in the table: the policy's Allow rule deleted by hand comes
	// back the same way.
	const chain, allow = "pi-default/prod/iperf-only", "ingress rule 0 Allow"
	listChain := func() string { return node.Exec(t, "nft", "-a", "list", "chain", "inet", "calico", chain) }
	ms := regexp.MustCompile(regexp.QuoteMeta(allow)+`.*# handle (\d+)`).FindAllStringSubmatch(listChain(), -1)
	if ms == nil {
		t.Fatalf("chain %s has no %q rule:\n%s", chain, allow, listChain())
	}
	for _, m := range ms { // one per address family
		node.Exec(t, "nft", "delete", "rule", "inet", "calico", chain, "handle", m[1])
	}
	if strings.Contains(listChain(), allow) {
		t.Fatalf("rule %q still in %s after deleting it", allow, chain)
	}
	deleted = time.Now()
	waitFor(t, 15*time.Second, "hand-deleted policy rule restored", a, func() bool { return strings.Contains(listChain(), allow) })
	t.Logf("hand-deleted policy rule restored after %v", time.Since(deleted).Round(time.Millisecond))
}

func felixReady(node *testutil.Netns, bin string, env []string) bool {
	probe := node.Command(bin, "-felix-ready")
	probe.Env = env
	return probe.Run() == nil
}

// waitFor polls ok every 100 ms until it holds or within passes; on
// timeout it fails with the agent's logs.
func waitFor(t *testing.T, within time.Duration, what string, a *agent, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		select {
		case <-a.done:
			t.Fatalf("calico-node exited while waiting for %s:\n%s", what, a.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v\n--- calico-node logs ---\n%s", what, within, a.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkIperf fails unless the iperf3 JSON report shows a completed test
// whose every interval carried bytes.
func checkIperf(t *testing.T, out []byte) {
	t.Helper()
	var rep struct {
		Error     string `json:"error"`
		Intervals []struct {
			Sum struct {
				Start float64 `json:"start"`
				Bytes int64   `json:"bytes"`
			} `json:"sum"`
		} `json:"intervals"`
		End struct {
			SumReceived struct {
				Bytes   int64   `json:"bytes"`
				Seconds float64 `json:"seconds"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("iperf3 --json output: %v\n%s", err, out)
	}
	if rep.Error != "" {
		t.Fatalf("iperf3 reported %q", rep.Error)
	}
	if len(rep.Intervals) < 9 {
		t.Errorf("iperf3 ran %d one-second intervals, want 10: the stream did not complete", len(rep.Intervals))
	}
	var per []string
	for _, iv := range rep.Intervals {
		per = append(per, fmt.Sprintf("%.0fs:%dKB", iv.Sum.Start, iv.Sum.Bytes/1024))
		if iv.Sum.Bytes == 0 {
			t.Errorf("iperf3 interval starting at %.1fs carried no bytes: the stream was interrupted", iv.Sum.Start)
		}
	}
	if rep.End.SumReceived.Bytes == 0 {
		t.Errorf("iperf3 server received nothing")
	}
	t.Logf("iperf3 intervals %s; received %d MB in %.1fs", strings.Join(per, " "), rep.End.SumReceived.Bytes>>20, rep.End.SumReceived.Seconds)
}

var counterRE = regexp.MustCompile(`counter packets (\d+) bytes \d+ .*comment "([^"]*)"`)

// tableCounters maps each counted rule (by its comment) to its packet
// count.
func tableCounters(t *testing.T, node *testutil.Netns) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range counterRE.FindAllStringSubmatch(node.Exec(t, "nft", "list", "table", "inet", "calico"), -1) {
		n, _ := strconv.Atoi(m[1])
		out[m[2]] += n
	}
	if len(out) == 0 {
		t.Fatal("no counted rules in the node's inet calico table")
	}
	return out
}

func sum(m map[string]int) int {
	s := 0
	for _, n := range m {
		s += n
	}
	return s
}

var handleRE = regexp.MustCompile(`(?m)^\s*(chain \S+|.*# handle (\d+))`)

// ruleHandles lists every chain and rule handle of the node's table.
func ruleHandles(t *testing.T, node *testutil.Netns) string {
	t.Helper()
	var out []string
	for _, m := range handleRE.FindAllStringSubmatch(node.Exec(t, "nft", "-a", "list", "table", "inet", "calico"), -1) {
		if m[2] != "" {
			out = append(out, m[2])
		} else {
			out = append(out, m[1])
		}
	}
	return strings.Join(out, "\n")
}
