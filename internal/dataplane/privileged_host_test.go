package dataplane

import (
	"fmt"
	"net"
	"testing"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// reachFor probes with retries when the probe is expected to succeed.
func reachFor(src, dst *pod, pr probe, want bool) bool {
	if want {
		return reachExpected(src, dst, pr)
	}
	return reach(src, dst, pr)
}

// listenTCP serves TCP echo on the ports inside a namespace.
func listenTCP(t *testing.T, ns *netns, ports ...int) {
	t.Helper()
	for _, port := range ports {
		var l net.Listener
		if err := ns.do(func() (err error) { l, err = net.Listen("tcp4", fmt.Sprintf(":%d", port)); return }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 64)
					n, err := c.Read(buf)
					if err == nil {
						_, _ = c.Write(buf[:n])
					}
				}()
			}
		}()
	}
}

// TestPrivilegedHostEndpoint_PolicyAndFailsafe protects the node's eth1
// (a link to an "outside" namespace) with a host endpoint: with an ingress
// policy allowing TCP/80, outside reaches the node on 80 and on the
// failsafe SSH port but not on 8080; the node's own new connections out of
// eth1 are denied (no egress policy, no profile) except to failsafe ports;
// pods are unaffected.
func TestPrivilegedHostEndpoint_PolicyAndFailsafe(t *testing.T) {
	l := newLab(t)
	listenTCP(t, l.node, 22, 8081, 8082)
	listenTCP(t, l.ext, 2379) // tcp/80 is served by the lab
	node, outside := l.pods[pHost], l.pods[pOutside]

	hep := eth1Endpoint()
	hostWeb := globalpol("host-web", "default", 1, "role == 'host'", ingress, []v3.Rule{{
		Action: v3.Allow, Protocol: protoPtr("TCP"),
		Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.SinglePort(8081)}},
	}}, nil)

	type check struct {
		from, to *pod
		port     int
		want     bool
	}
	run := func(phase string, checks []check) {
		t.Helper()
		for _, c := range checks {
			if got := reachFor(c.from, c.to, probe{proto: "tcp", port: c.port}, c.want); got != c.want {
				t.Errorf("%s: %s -> %s tcp/%d reachable=%v, want %v", phase, c.from.ip, c.to.ip, c.port, got, c.want)
			}
		}
	}

	l.setObjects(t)
	run("no host endpoint", []check{
		{outside, node, 8081, true}, {outside, node, 8082, true}, {outside, node, 22, true}, {node, outside, 80, true},
	})

	l.setObjects(t, hep, hostWeb)
	run("host endpoint with ingress policy", []check{
		{outside, node, 8081, true}, {outside, node, 8082, false}, {outside, node, 22, true},
		{node, outside, 80, false}, {node, outside, 2379, true},
	})
	// Pods are untouched; host <-> outside on the matrix's ports is cut
	// but for udp/53 out (a failsafe outbound port).
	l.assertMatrix(t, allOf(deny(allOf(from(pOutside), to(pHost))),
		restrict(allOf(from(pHost), to(pOutside)), on(udp53))))

	l.setObjects(t, hep)
	run("host endpoint without policy", []check{
		{outside, node, 8081, false}, {outside, node, 22, true}, {node, outside, 2379, true},
	})
	if t.Failed() {
		t.Log(l.listTable(t))
	}
}

// TestPrivilegedHostEndpoint_PreDNATAndUntracked checks the two early
// stages on the node's eth1: a preDNAT Deny beats a normal Allow, a
// preDNAT Allow skips normal policy; an untracked Allow (both directions)
// gets through without conntrack and skips the later stages, an untracked
// Deny beats a normal Allow; failsafe ports stay open.
func TestPrivilegedHostEndpoint_PreDNATAndUntracked(t *testing.T) {
	l := newLab(t)
	listenTCP(t, l.node, 22, 8081, 8082, 8083, 8084, 8085)
	node, outside := l.pods[pHost], l.pods[pOutside]

	hep := eth1Endpoint()
	ports := func(ps ...uint16) []numorstring.Port {
		var out []numorstring.Port
		for _, p := range ps {
			out = append(out, numorstring.SinglePort(p))
		}
		return out
	}
	tcpTo := func(a v3.Action, ps ...uint16) v3.Rule {
		return v3.Rule{Action: a, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(ps...)}}
	}
	tcpFrom := func(a v3.Action, ps ...uint16) v3.Rule {
		return v3.Rule{Action: a, Protocol: protoPtr("TCP"), Source: v3.EntityRule{Ports: ports(ps...)}}
	}
	normal := globalpol("host-normal", "default", 10, "role == 'host'", ingress, []v3.Rule{tcpTo(v3.Allow, 8081, 8082, 8085)}, nil)
	preDNAT := globalpol("host-prednat", "default", 1, "role == 'host'", ingress, []v3.Rule{tcpTo(v3.Deny, 8082), tcpTo(v3.Allow, 8083)}, nil)
	preDNAT.Spec.PreDNAT, preDNAT.Spec.ApplyOnForward = true, true
	untracked := globalpol("host-untracked", "default", 1, "role == 'host'", []v3.PolicyType{v3.PolicyTypeIngress, v3.PolicyTypeEgress},
		[]v3.Rule{tcpTo(v3.Allow, 8084), tcpTo(v3.Deny, 8085)}, []v3.Rule{tcpFrom(v3.Allow, 8084)})
	untracked.Spec.DoNotTrack, untracked.Spec.ApplyOnForward = true, true

	l.setObjects(t, hep, normal, preDNAT, untracked)
	for _, c := range []struct {
		port int
		want bool
		why  string
	}{
		{8081, true, "normal Allow"},
		{8082, false, "preDNAT Deny beats normal Allow"},
		{8083, true, "preDNAT Allow skips normal policy (which does not allow it)"},
		{8084, true, "untracked Allow both ways skips the rest"},
		{8085, false, "untracked Deny beats normal Allow"},
		{22, true, "failsafe"},
	} {
		if got := reachFor(outside, node, probe{proto: "tcp", port: c.port}, c.want); got != c.want {
			t.Errorf("outside -> node tcp/%d reachable=%v, want %v (%s)", c.port, got, c.want, c.why)
		}
	}
	if t.Failed() {
		t.Log(l.listTable(t))
	}
}
