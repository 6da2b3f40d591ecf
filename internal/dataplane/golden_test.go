package dataplane

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.nft from the current rendering")

// goldenCase is one policy scenario: the calc output for it (after the two
// workloads and the namespace profile every case shares).
type goldenCase struct {
	name    string
	updates []calc.Update
	// web is the web workload's tiers (its endpoint chains are where
	// policies get attached).
	web []calc.TierInfo
	// hostIfaces are the host's interfaces and addresses (for host
	// endpoints given by expectedIPs).
	hostIfaces map[string][]netip.Addr
}

var (
	allowWeb   = pid("default", "prod", "allow-web")
	secPolicy  = pid("security", "", "block-bad")
	denyAll    = pid("default", "prod", "default-deny")
	egressOnly = pid("default", "prod", "egress-dns")
)

func goldenCases() []goldenCase {
	tcp, udp, icmp := u8(protoTCP), u8(protoUDP), u8(protoICMP)
	return []goldenCase{
		{name: "no-policy-profile-allows"},
		{
			name: "k8s-allow-by-label",
			updates: []calc.Update{set("s:app-client", "10.244.1.3/32"),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp, SrcIPSetIDs: []string{"s:app-client"}, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "namespace-selector",
			updates: []calc.Update{set("s:ns-frontend", "10.244.2.5/32", "10.244.2.6/32"), set("s:role-api", "10.244.2.6/32"),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, SrcIPSetIDs: []string{"s:ns-frontend", "s:role-api"}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "ports-and-ranges",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 80, Max: 80}, {Min: 443, Max: 443}, {Min: 8000, Max: 8080}}},
				calc.Rule{Action: v3.Allow, Protocol: udp, SrcPorts: []calc.PortRange{{Min: 1024, Max: 65535}}, DstPorts: []calc.PortRange{{Min: 53, Max: 53}}},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "not-ports",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, Protocol: tcp, NotDstPorts: []calc.PortRange{{Min: 22, Max: 22}, {Min: 6000, Max: 6100}}},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "named-ports",
			updates: []calc.Update{namedPortSet("n:http", "10.244.1.2,tcp:8080", "fd00::2,tcp:8080"),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstNamedPortIPSetIDs: []string{"n:http"}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "named-and-numeric-ports-ored",
			updates: []calc.Update{namedPortSet("n:http", "10.244.1.2,tcp:8080"), namedPortSet("n:metrics", "10.244.1.2,tcp:9090"),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 443, Max: 443}},
					DstNamedPortIPSetIDs: []string{"n:http", "n:metrics"}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "nets-and-not-nets",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, SrcNets: []string{"10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "fd00::/8"}, NotSrcNets: []string{"10.9.0.0/16"}},
				calc.Rule{Action: v3.Deny, DstNets: []string{"172.16.0.0/12"}},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "icmp-type-code",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, Protocol: icmp, ICMPType: ip(8), ICMPCode: ip(0)},
				calc.Rule{Action: v3.Deny, Protocol: icmp, NotICMPType: ip(3), NotICMPCode: ip(4)},
				calc.Rule{Action: v3.Allow, Protocol: u8(58), ICMPType: ip(128)},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "protocol-by-number-and-not-protocol",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, Protocol: u8(132)},
				calc.Rule{Action: v3.Deny, NotProtocol: u8(protoUDP)},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "ip-version",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Allow, IPVersion: 6},
				calc.Rule{Action: v3.Allow, IPVersion: 4, Protocol: tcp},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name: "tiers-with-pass",
			updates: []calc.Update{set("s:bad", "10.99.0.0/16"),
				pol(secPolicy, rules(
					calc.Rule{Action: v3.Deny, SrcIPSetIDs: []string{"s:bad"}},
					calc.Rule{Action: v3.Pass},
				), nil),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp}), nil)},
			web: []calc.TierInfo{tierIn("security", v3.Deny, secPolicy), tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name:    "tier-default-pass",
			updates: []calc.Update{pol(secPolicy, rules(calc.Rule{Action: v3.Deny, Protocol: udp}), nil)},
			web:     []calc.TierInfo{tierIn("security", v3.Pass, secPolicy)},
		},
		{
			name: "log-then-deny",
			updates: []calc.Update{pol(allowWeb, rules(
				calc.Rule{Action: v3.Log, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 23, Max: 23}}},
				calc.Rule{Action: v3.Deny, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 23, Max: 23}}},
				calc.Rule{Action: v3.Allow},
			), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			name:    "default-deny-ingress",
			updates: []calc.Update{pol(denyAll, nil, nil)},
			web:     []calc.TierInfo{tierIn("default", v3.Deny, denyAll)},
		},
		{
			name: "egress-policy",
			updates: []calc.Update{set("s:kube-dns", "10.96.0.10/32"),
				pol(egressOnly, nil, rules(calc.Rule{Action: v3.Allow, Protocol: udp, DstIPSetIDs: []string{"s:kube-dns"}, DstPorts: []calc.PortRange{{Min: 53, Max: 53}}}))},
			web: []calc.TierInfo{tierOut("default", v3.Deny, egressOnly)},
		},
		{
			name: "missing-profile-fails-closed",
			updates: []calc.Update{calc.ActiveProfileUpdate{Name: "kns.ghost", Profile: &calc.Profile{
				InboundRules: []calc.Rule{{Action: v3.Deny}}, OutboundRules: []calc.Rule{{Action: v3.Deny}}, Missing: true}},
				wl("ghost", "orphan", "caliorphan", "10.244.1.9", nil, "kns.ghost")},
		},
		{
			name: "nat-outgoing-pools",
			updates: []calc.Update{
				calc.IPPoolUpdate{Name: "default-ipv4-ippool", Pool: calc.Pool{CIDR: "10.244.0.0/16", NATOutgoing: true}},
				calc.IPPoolUpdate{Name: "no-nat", Pool: calc.Pool{CIDR: "10.250.0.0/16"}},
				calc.IPPoolUpdate{Name: "v6", Pool: calc.Pool{CIDR: "fd00:10:244::/48", NATOutgoing: true}},
			},
		},
		{
			name: "global-policy-and-namespaced-in-one-tier",
			updates: []calc.Update{set("s:all-ns-monitoring", "10.244.3.0/24", "10.244.3.7/32"),
				pol(pid("default", "", "allow-monitoring"), rules(calc.Rule{Action: v3.Allow, SrcIPSetIDs: []string{"s:all-ns-monitoring"}}), nil),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "allow-monitoring"), allowWeb)},
		},
		{
			name: "host-endpoint-failsafe-and-policy",
			updates: []calc.Update{
				pol(pid("default", "", "host-ssh-web"), rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}}), nil),
				calc.HostEndpointUpdate{Name: "node-a-eth0", Endpoint: &calc.HostEndpoint{InterfaceName: "eth0",
					Tiers: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "host-ssh-web"))}}},
			},
		},
		{
			// "*": fallback gotos at the end of the input, output, forward
			// and preDNAT dispatch chains (not for workload interfaces);
			// its doNotTrack policy is not rendered (Calico does not
			// support it); eth0's named endpoint takes eth0.
			name: "host-endpoint-wildcard",
			updates: []calc.Update{
				pol(pid("default", "", "host-web"), rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}}), nil),
				pol(pid("default", "", "fwd-tcp"), rules(calc.Rule{Action: v3.Allow, Protocol: tcp}), nil),
				pol(pid("default", "", "prednat-deny-nodeports"), rules(calc.Rule{Action: v3.Deny, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 30000, Max: 32767}}}), nil),
				pol(pid("default", "", "untracked-udp"), rules(calc.Rule{Action: v3.Allow, Protocol: udp}), nil),
				calc.HostEndpointUpdate{Name: "node-a-all", Endpoint: &calc.HostEndpoint{InterfaceName: "*",
					Tiers:          []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "host-web"))},
					ForwardTiers:   []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "fwd-tcp"))},
					PreDNATTiers:   []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "prednat-deny-nodeports"))},
					UntrackedTiers: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "untracked-udp"))}}},
				calc.HostEndpointUpdate{Name: "node-a-eth0", Endpoint: &calc.HostEndpoint{InterfaceName: "eth0", Profiles: []string{"kns.prod"}}},
			},
		},
		{
			// No interfaceName: the endpoint covers the interface holding
			// one of its expectedIPs (eth1), not the others.
			name: "host-endpoint-expected-ips",
			updates: []calc.Update{
				pol(pid("default", "", "host-web"), rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}}), nil),
				calc.HostEndpointUpdate{Name: "node-a-fabric", Endpoint: &calc.HostEndpoint{ExpectedIPv4s: []string{"198.18.1.1"},
					Tiers: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "host-web"))}}},
			},
			hostIfaces: map[string][]netip.Addr{
				"lo":   {netip.MustParseAddr("127.0.0.1")},
				"eth0": {netip.MustParseAddr("192.0.2.10")},
				"eth1": {netip.MustParseAddr("198.18.1.1"), netip.MustParseAddr("fe80::1")},
			},
		},
		{
			name: "host-endpoint-apply-on-forward",
			updates: []calc.Update{
				pol(pid("default", "", "fwd-only-https"), rules(calc.Rule{Action: v3.Allow, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 443, Max: 443}}}), nil),
				calc.HostEndpointUpdate{Name: "node-a-eth1", Endpoint: &calc.HostEndpoint{InterfaceName: "eth1",
					Profiles:     []string{"kns.prod"},
					ForwardTiers: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "fwd-only-https"))}}},
			},
		},
		{
			name: "host-endpoint-untracked-and-prednat",
			updates: []calc.Update{
				pol(pid("default", "", "untracked-dns"), rules(calc.Rule{Action: v3.Allow, Protocol: udp, DstPorts: []calc.PortRange{{Min: 53, Max: 53}}}),
					rules(calc.Rule{Action: v3.Allow, Protocol: udp, SrcPorts: []calc.PortRange{{Min: 53, Max: 53}}})),
				pol(pid("default", "", "prednat-nodeports"), rules(
					calc.Rule{Action: v3.Deny, Protocol: tcp, DstPorts: []calc.PortRange{{Min: 30000, Max: 32767}}, NotSrcNets: []string{"10.0.0.0/8"}}), nil),
				calc.HostEndpointUpdate{Name: "node-a-eth0", Endpoint: &calc.HostEndpoint{InterfaceName: "eth0",
					UntrackedTiers: []calc.TierInfo{{Name: "default", DefaultAction: v3.Deny,
						IngressPolicies: []calc.PolicyID{pid("default", "", "untracked-dns")}, EgressPolicies: []calc.PolicyID{pid("default", "", "untracked-dns")}}},
					PreDNATTiers: []calc.TierInfo{tierIn("default", v3.Deny, pid("default", "", "prednat-nodeports"))}}},
			},
		},
		{
			name: "not-selector-and-not-named-port",
			updates: []calc.Update{set("s:quarantine", "10.244.4.4/32"), namedPortSet("n:admin", "10.244.1.2,tcp:9000"),
				pol(allowWeb, rules(calc.Rule{Action: v3.Allow, Protocol: tcp, NotSrcIPSetIDs: []string{"s:quarantine"}, NotDstNamedPortIPSetIDs: []string{"n:admin"}}), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
		{
			// FELIX_IPV6SUPPORT=false: no s6-/n6- sets, no IPv6 rules, no
			// IPv6 natOutgoing; the family-independent rule stays.
			name: "ipv6-support-off",
			updates: []calc.Update{
				calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{IPv6Support: new(false)}},
				set("s:app-client", "10.244.1.3/32", "fd00:10:244::3/128"),
				calc.IPPoolUpdate{Name: "default-ipv4-ippool", Pool: calc.Pool{CIDR: "10.244.0.0/16", NATOutgoing: true}},
				calc.IPPoolUpdate{Name: "v6", Pool: calc.Pool{CIDR: "fd00:10:244::/48", NATOutgoing: true}},
				pol(allowWeb, rules(
					calc.Rule{Action: v3.Allow, Protocol: tcp, SrcIPSetIDs: []string{"s:app-client"}, DstPorts: []calc.PortRange{{Min: 80, Max: 80}}},
					calc.Rule{Action: v3.Allow, Protocol: u8(58), IPVersion: 6},
					calc.Rule{Action: v3.Allow, SrcNets: []string{"10.0.0.0/8", "fd00::/8"}},
					calc.Rule{Action: v3.Allow, Protocol: udp, DstPorts: []calc.PortRange{{Min: 53, Max: 53}}},
				), nil)},
			web: []calc.TierInfo{tierIn("default", v3.Deny, allowWeb)},
		},
	}
}

// TestRender_GoldenCorpus renders each case into a knftables fake and
// compares the whole table with testdata/golden/<case>.nft. Run with
// -update to rewrite the files after an intended change (and review the
// diff).
func TestRender_GoldenCorpus(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, fake := newFakeManager(t, PolicyConfig{})
			m.OnUpdates([]calc.Update{
				allowAllProfile("kns.prod"),
				wl("prod", "client", "caliclient", "10.244.1.3", nil, "kns.prod"),
			})
			if tc.hostIfaces != nil {
				m.SetHostInterfaces(tc.hostIfaces)
			}
			m.OnUpdates(tc.updates)
			m.OnUpdate(wl("prod", "web", "caliweb", "10.244.1.2", tc.web, "kns.prod"))
			m.OnUpdate(calc.InSync{})
			mustApply(t, m)
			got := fake.Dump()
			path := filepath.Join("testdata", "golden", tc.name+".nft")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("golden file %s missing (run go test ./internal/dataplane -run TestRender_GoldenCorpus -update): %v", path, err)
			}
			if got != string(want) {
				t.Errorf("rendering of %s differs from %s (rerun with -update if intended):\n%s", tc.name, path, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists lines only in want (-) or only in got (+).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(l []string) map[string]int {
		m := map[string]int{}
		for _, s := range l {
			m[s]++
		}
		return m
	}
	wm, gm := in(wl), in(gl)
	var b strings.Builder
	for _, s := range wl {
		if gm[s] == 0 {
			b.WriteString("- " + s + "\n")
		}
	}
	for _, s := range gl {
		if wm[s] == 0 {
			b.WriteString("+ " + s + "\n")
		}
	}
	return b.String()
}
