package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// The helpers of the scenario tests (scenario_*_privileged_test.go): what a
// scenario asserts, phrased as a user would check it with calico-lab.

// convergeTimeout bounds how long routes and policy may take to reach
// every node after a change, on a loaded 2-CPU machine.
const convergeTimeout = 45 * time.Second

// reachability says whether traffic from one pod to another should pass.
type reachability func(from, to Pod) bool

// allReach is reachability with no policy.
func allReach(from, to Pod) bool { return true }

// expectMatrix probes every pair (proto) until the matrix equals want or
// the timeout ends, and fails with the differing pairs and the table. It
// returns the last matrix.
func expectMatrix(t *testing.T, ctx context.Context, l *Lab, proto string, want reachability, timeout time.Duration) *Matrix {
	t.Helper()
	return expectMatrixWith(t, ctx, l, MatrixOptions{Proto: proto}, want, timeout)
}

// expectMatrixWith is expectMatrix with every probe option (port, IPv6).
func expectMatrixWith(t *testing.T, ctx context.Context, l *Lab, o MatrixOptions, want reachability, timeout time.Duration) *Matrix {
	t.Helper()
	what := o.Proto
	if o.Port != 0 {
		what += fmt.Sprintf(" port %d", o.Port)
	}
	if o.IPv6 {
		what += " over IPv6"
	}
	pods := map[string]Pod{}
	for _, p := range l.Pods() {
		pods[p.Key()] = p
	}
	deadline := time.Now().Add(timeout)
	for {
		m, err := l.Matrix(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		var diff []string
		for i, from := range m.Pods {
			for j, to := range m.Pods {
				if i == j {
					continue
				}
				if w := want(pods[from], pods[to]); m.OK[i][j] != w {
					diff = append(diff, fmt.Sprintf("%s -> %s: reached=%v, want %v", from, to, m.OK[i][j], w))
				}
			}
		}
		if len(diff) == 0 {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s matrix still differs from the expected one after %s:\n  %s\n%s", what, timeout, strings.Join(diff, "\n  "), m)
		}
		time.Sleep(time.Second)
	}
}

// linkCounters are a link's packet counters.
type linkCounters struct{ RX, TX uint64 }

// vxlanCounters reads vxlan.calico's packet counters in a node's namespace
// (`ip -s link show vxlan.calico`).
func vxlanCounters(t *testing.T, ctx context.Context, l *Lab, node string) linkCounters {
	t.Helper()
	out, err := ipCmd(ctx, "-n", NodeNetns(l.RunID(), node), "-s", "-j", "link", "show", "dev", "vxlan.calico")
	if err != nil {
		t.Fatalf("node %s has no vxlan.calico: %v", node, err)
	}
	var links []struct {
		Stats64 struct {
			RX struct{ Packets uint64 } `json:"rx"`
			TX struct{ Packets uint64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show vxlan.calico on %s: %v: %s", node, err, out)
	}
	return linkCounters{RX: links[0].Stats64.RX.Packets, TX: links[0].Stats64.TX.Packets}
}

// pingBurst sends n echoes from one pod to another, 20 ms apart, and fails
// unless every one is answered.
func pingBurst(t *testing.T, ctx context.Context, l *Lab, from, to string, n int) {
	t.Helper()
	dst, err := l.Pod(to)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Exec(ctx, from, "ping", "-q", "-c", fmt.Sprint(n), "-i", "0.02", "-W", "2", dst.IP)
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d received", n)) {
		t.Fatalf("ping -c %d %s (%s) from %s: %v\n%s", n, to, dst.IP, from, err, out)
	}
}

// routeTo is the node's route to a pod's address other than the default
// route ("" when there is none), e.g. "10.244.5.0/26 via 198.18.1.3 dev
// eth0 proto bird".
func routeTo(ctx context.Context, l *Lab, node string, p Pod) string {
	return routeToAddr(ctx, l, node, p.IP)
}

// routeToAddr is routeTo for any address, IPv4 or IPv6.
func routeToAddr(ctx context.Context, l *Lab, node, ip string) string {
	family := "-4"
	if strings.Contains(ip, ":") {
		family = "-6"
	}
	out, _ := ipCmd(ctx, "-n", NodeNetns(l.RunID(), node), family, "route", "show", "match", ip)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "default") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// waitRoute waits until the node's route to the pod contains every one of
// parts, and fails with the route it has otherwise.
func waitRoute(t *testing.T, ctx context.Context, l *Lab, node string, p Pod, parts ...string) string {
	t.Helper()
	return waitRouteTo(t, ctx, l, node, p, p.IP, parts...)
}

// waitRoute6 is waitRoute for the pod's IPv6 address.
func waitRoute6(t *testing.T, ctx context.Context, l *Lab, node string, p Pod, parts ...string) string {
	t.Helper()
	return waitRouteTo(t, ctx, l, node, p, p.IP6, parts...)
}

// waitRouteTo is waitRoute for one of the pod's addresses, ip.
func waitRouteTo(t *testing.T, ctx context.Context, l *Lab, node string, p Pod, ip string, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		r := routeToAddr(ctx, l, node, ip)
		ok := r != ""
		for _, part := range parts {
			ok = ok && strings.Contains(r, part)
		}
		if ok {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's route to pod %s (%s) on %s is %q after %s, want one with %q", node, p.Key(), ip, p.Node, r, convergeTimeout, parts)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// calicoctl runs calicoctl on the lab's datastore (the `calico-lab ctl`
// passthrough), with stdin when given, and fails on a non-zero exit.
func calicoctl(t *testing.T, ctx context.Context, l *Lab, stdin string, args ...string) string {
	t.Helper()
	cmd, err := l.CalicoctlCommand(ctx, args...)
	if err != nil {
		t.Skip(err)
	}
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("calicoctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// hostNetns is the namespace of a node or external host.
func hostNetns(l *Lab, host string) string { return NodeNetns(l.RunID(), host) }

// udpSourceRecorder is a UDP echo socket inside a namespace that records
// the source address of every datagram it receives.
type udpSourceRecorder struct {
	pc   net.PacketConn
	mu   sync.Mutex
	seen []string
}

// recordUDPSources listens on addr inside netns until the test ends.
func recordUDPSources(t *testing.T, netns, addr string) *udpSourceRecorder {
	t.Helper()
	pc, err := listenPacketIn(netns, addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &udpSourceRecorder{pc: pc}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.seen = append(r.seen, from.(*net.UDPAddr).IP.String())
			r.mu.Unlock()
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return r
}

// take returns the sources seen since the last call and forgets them.
func (r *udpSourceRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

// udpFromPod sends one datagram from a pod (a fresh socket, so a fresh
// conntrack entry) and reports whether the echo came back within timeout.
func udpFromPod(ctx context.Context, l *Lab, pod, addr string, timeout time.Duration) error {
	p, err := l.Pod(pod)
	if err != nil {
		return err
	}
	return udpProbe(ctx, p, addr, timeout)
}

// linksIn lists the links of a namespace whose names start with prefix.
func linksIn(t *testing.T, ctx context.Context, netns, prefix string) []string {
	t.Helper()
	out, err := ipCmd(ctx, "-n", netns, "-j", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	var links []struct {
		Name string `json:"ifname"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		t.Fatalf("ip -j link show in %s: %v", netns, err)
	}
	var names []string
	for _, k := range links {
		if strings.HasPrefix(k.Name, prefix) {
			names = append(names, k.Name)
		}
	}
	return names
}
