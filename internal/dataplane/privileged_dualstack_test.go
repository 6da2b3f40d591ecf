package dataplane

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// The dual-stack matrix: the lab of the traffic matrix with an IPv6
// address on every participant (newDualStackLab), probed over IPv4 and
// IPv6 with the same TCP/80, TCP/8080, UDP/53 and echo (ICMP, ICMPv6)
// probes. Each case's neighbour caches are flushed first, so the pods'
// IPv6 next hop (the host veth's link-local address) is resolved by
// neighbour discovery under the case's policy.

// Pods' IPv6 addresses as rule nets.
const (
	clientNet6 = "fd00:10:244::a/128"
	dbNet6     = "fd00:10:244::c/128"
)

// dualStackCases are cases of the traffic matrix whose expectations hold
// over both families as they are (their probes match either family), then
// IPv6's own cases.
func dualStackCases() []matrixCase {
	cases := fromMatrix("no-policy-profiles-allow", "allow-tcp80-to-db-from-web-label",
		"default-deny-egress-from-db", "port-list", "port-range", "namespace-selector-by-label")
	for i := range cases {
		switch cases[i].name {
		case "no-policy-profiles-allow":
			cases[i].check = checkRouteRepaired
		case "default-deny-egress-from-db":
			// db sends nothing new but answers: its replies need its IPv6
			// next hop, resolved under this policy (the matrix), while
			// the same ICMPv6 types sent beyond the host are its egress
			// policy's (the check).
			cases[i].check = checkNDTypeNotForwarded(pDB)
		}
	}
	return append(cases, []matrixCase{
		{
			name:   "default-deny-both-ways-on-db-keeps-neighbour-discovery",
			objs:   objs(netpol("b", "isolate-db", "role == 'db'", bothWays, nil, nil)),
			expect: deny(anyOf(to(pDB), from(pDB))),
			check:  checkGatewayResolves(pDB),
		},
		{
			// Positive IPv6 nets make the rule IPv6-only: the client's
			// IPv4 traffic matches nothing.
			name: "egress-ipv6-nets-not-nets",
			objs: objs(netpol("a", "client-out-v6", "role == 'client'", egress, nil, []v3.Rule{{
				Action:      v3.Allow,
				Destination: v3.EntityRule{Nets: []string{"fd00:10:244::/120"}, NotNets: []string{dbNet6}},
			}})),
			expect: restrict(from(pClient), overIPv6, to(pWebA, pWebB, pMonitor, pAPI)),
		},
		{
			// Negative nets of one family say nothing about the other
			// (Calico drops them when rendering the other family): IPv4
			// from the client and web-a is allowed.
			name: "ingress-ipv6-not-nets",
			objs: objs(netpol("b", "db-not-from-a-v6", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NotNets: []string{"fd00:10:244::8/126"}}, // client, web-a
			}}, nil)),
			expect: restrict(to(pDB), not(allOf(overIPv6, from(pClient, pWebA)))),
		},
		{
			name: "ip-version-6-all-and-4-udp",
			objs: objs(netpol("a", "web-v6-all-v4-udp", "role == 'web'", ingress, []v3.Rule{
				{Action: v3.Allow, IPVersion: intPtr(6)},
				{Action: v3.Allow, IPVersion: intPtr(4), Protocol: protoPtr("UDP")},
			}, nil)),
			expect: restrict(to(pWebA), anyOf(overIPv6, on(udp53))),
		},
		{
			name: "icmpv6-echo-request-type",
			objs: objs(netpol("a", "web-ping6", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("ICMPv6"), ICMP: &v3.ICMPFields{Type: intPtr(128), Code: intPtr(0)},
			}}, nil)),
			expect: restrict(to(pWebA), overIPv6, on(icmpEcho)),
		},
		{
			name: "ipv6-only-deny-by-cidr",
			objs: objs(netpol("b", "db-not-client-v6", "role == 'db'", ingress, []v3.Rule{
				{Action: v3.Deny, Source: v3.EntityRule{Nets: []string{clientNet6}}},
				{Action: v3.Allow},
			}, nil)),
			expect: deny(allOf(from(pClient), to(pDB), overIPv6)),
		},
		{
			name: "ipv6-only-deny-by-ip-version",
			objs: objs(globalpol("no-v6-to-webs", "default", 10, "role == 'web'", ingress, []v3.Rule{
				{Action: v3.Deny, IPVersion: intPtr(6)},
				{Action: v3.Allow},
			}, nil)),
			expect: deny(allOf(to(pWebA, pWebB), overIPv6)),
		},
		{
			// Felix with IPv6 support off does not police IPv6, so IPv6
			// to and from workloads must not get through at all (Calico:
			// no ip6tables rules and no IPv6 forwarding). Here IPv6
			// forwarding stays on, as another program on the host may
			// have set it, and every IPv6 next hop is a static neighbour
			// (no neighbour discovery needed): the table alone must stop
			// that traffic, while IPv4 and the host's own IPv6 are
			// untouched.
			name:  "ipv6-support-off-drops-workload-ipv6",
			objs:  objs(felixConfig(func(s *v3.FelixConfigurationSpec) { s.IPv6Support = boolPtr(false) })),
			setup: staticNeighbours,
			expect: allOf(baseline,
				not(allOf(overIPv6, anyOf(from(knownPods...), to(knownPods...))))),
		},
		{name: "ipv6-support-back-on", expect: baseline},
	}...)
}

// fromMatrix returns the traffic matrix's cases of these names.
func fromMatrix(names ...string) []matrixCase {
	var out []matrixCase
	for _, name := range names {
		i := slices.IndexFunc(matrixCases(), func(c matrixCase) bool { return c.name == name })
		if i < 0 {
			panic("no traffic matrix case " + name)
		}
		out = append(out, matrixCases()[i])
	}
	return out
}

func boolPtr(b bool) *bool { return &b }

// TestPrivilegedPolicy_DualStackMatrix programs a dual-stack subset of the
// traffic matrix (incrementally, case after case) into a node whose pods
// are wired with an IPv4 and an IPv6 address as Calico's CNI plugin wires
// them, and probes every pair over both families.
func TestPrivilegedPolicy_DualStackMatrix(t *testing.T) {
	l := newDualStackLab(t)
	for _, tc := range dualStackCases() {
		t.Run(tc.name, func(t *testing.T) { l.runCase(t, tc) })
	}
}

// flushNeighbours empties the IPv6 neighbour caches of the node and of
// every pod, static entries included.
func (l *lab) flushNeighbours(t *testing.T) {
	t.Helper()
	l.node.ip(t, "-6", "neigh", "flush", "all", "nud", "all")
	for _, i := range append(slices.Clone(knownPods), pUnknown) {
		l.pods[i].ns.ip(t, "-6", "neigh", "flush", "dev", "eth0", "nud", "all")
	}
}

// staticNeighbours makes every IPv6 next hop between the node and its
// pods a permanent neighbour entry, so IPv6 traffic needs no neighbour
// discovery.
func staticNeighbours(t *testing.T, l *lab) {
	t.Helper()
	for _, i := range append(slices.Clone(knownPods), pUnknown) {
		p := l.pods[i]
		gw := strings.Fields(p.ns.ip(t, "-6", "route", "show", "default"))[2]
		p.ns.ip(t, "-6", "neigh", "replace", gw, "lladdr", "ee:ee:ee:ee:ee:ee", "dev", "eth0", "nud", "permanent")
		mac := strings.TrimSpace(p.ns.exec(t, "cat", "/sys/class/net/eth0/address"))
		l.node.ip(t, "-6", "neigh", "replace", p.ip6, "lladdr", mac, "dev", p.iface, "nud", "permanent")
	}
}

// checkGatewayResolves asserts that pod i, its neighbour cache flushed,
// resolves its IPv6 next hop (the host veth's link-local address) when it
// sends: the neighbour solicitation to the host and the advertisement back
// must pass whatever the pod's policy says.
func checkGatewayResolves(i int) func(t *testing.T, l *lab) {
	return func(t *testing.T, l *lab) {
		t.Helper()
		p := l.pods[i]
		route := strings.Fields(p.ns.ip(t, "-6", "route", "show", "default"))
		if len(route) < 3 || route[1] != "via" {
			t.Fatalf("%s has no IPv6 default route via a next hop: %v", participantName(i), route)
		}
		gw := route[2]
		p.ns.ip(t, "-6", "neigh", "flush", "dev", "eth0")
		// Anything routed makes the pod resolve its next hop; the
		// datagram itself is dropped by the pod's egress policy.
		if err := p.ns.do(func() error {
			c, err := net.Dial("udp6", net.JoinHostPort(outsideIP6, "9"))
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write([]byte("nd"))
			return err
		}); err != nil {
			t.Fatalf("send from %s: %v", participantName(i), err)
		}
		var state string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			state = strings.TrimSpace(p.ns.ip(t, "-6", "neigh", "show", gw, "dev", "eth0"))
			if strings.Contains(state, "REACHABLE") {
				return
			}
		}
		t.Errorf("%s could not resolve its IPv6 next hop %s under its policy: neighbour entry %q, want REACHABLE\n--- table ---\n%s",
			participantName(i), gw, state, l.listTable(t))
	}
}

// checkRouteRepaired deletes db's /128 device route by hand (IPv6 to db
// stops), and Felix's route manager restores it on its next resync.
func checkRouteRepaired(t *testing.T, l *lab) {
	t.Helper()
	db, client := l.pods[pDB], l.pods[pClient]
	l.node.ip(t, "-6", "route", "del", db.ip6+"/128", "dev", db.iface)
	if reach(client, db, probesV6[0]) {
		t.Fatalf("client reached db over IPv6 without a route to db")
	}
	l.routes.Resync()
	l.applyRoutesAndSysctls(t, nil)
	if !reachExpected(client, db, probesV6[0]) {
		t.Errorf("the route manager did not restore db's IPv6 route: %s", l.node.ip(t, "-6", "route"))
	}
}

// checkNDTypeNotForwarded has pod i, whose egress policy denies
// everything, send a neighbour solicitation (ICMPv6 type 135) to the
// outside: only neighbour discovery to the host itself passes before
// egress policy, so the host must not forward it.
func checkNDTypeNotForwarded(i int) func(t *testing.T, l *lab) {
	return func(t *testing.T, l *lab) {
		t.Helper()
		src := l.pods[i]
		var rc net.PacketConn
		if err := l.pods[pOutside].ns.do(func() (err error) { rc, err = net.ListenPacket("ip6:ipv6-icmp", "::"); return }); err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		ns := append([]byte{135, 0, 0, 0, 0, 0, 0, 0}, net.ParseIP(outsideIP6).To16()...)
		if err := src.ns.do(func() error {
			c, err := net.ListenPacket("ip6:ipv6-icmp", "::")
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.WriteTo(ns, &net.IPAddr{IP: net.ParseIP(outsideIP6)})
			return err
		}); err != nil {
			t.Fatalf("send from %s: %v", participantName(i), err)
		}
		_ = rc.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 1500)
		for {
			n, from, err := rc.ReadFrom(buf)
			if err != nil {
				return // nothing from the pod arrived
			}
			if n > 0 && buf[0] == 135 && net.ParseIP(from.String()).Equal(net.ParseIP(src.ip6)) {
				t.Errorf("a neighbour solicitation from %s reached the outside through the host despite its egress policy", participantName(i))
				return
			}
		}
	}
}
