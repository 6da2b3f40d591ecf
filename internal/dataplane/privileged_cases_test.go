package dataplane

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// The traffic matrix: each case is a set of api/v3 objects (on top of
// baseObjects; an object with a base object's key replaces it), fed through
// the calc graph into the policy manager, and the reachability it must
// produce between every pair of participants (see privileged_test.go):
// a/client a/web b/db b/web c/monitor d/api, the unknown cali interface,
// the host (eth1 198.18.1.1) and the outside (198.18.1.2).

// matrixCase is one policy scenario and the reachability it must produce.
type matrixCase struct {
	name   string
	objs   []v3.Resource
	expect expectFn
	// setup, if set, prepares the lab after the objects are programmed
	// and before the matrix.
	setup func(t *testing.T, l *lab)
	// check, if set, asserts more after the matrix (counters, NAT).
	check func(t *testing.T, l *lab)
}

// --- object builders ---

func netpol(ns, name, sel string, types []v3.PolicyType, ingress, egress []v3.Rule) *v3.NetworkPolicy {
	p := v3.NewNetworkPolicy()
	p.Namespace, p.Name = ns, name
	p.Spec.Selector, p.Spec.Types, p.Spec.Ingress, p.Spec.Egress = sel, types, ingress, egress
	return p
}

func globalpol(name, tier string, order float64, sel string, types []v3.PolicyType, ingress, egress []v3.Rule) *v3.GlobalNetworkPolicy {
	p := v3.NewGlobalNetworkPolicy()
	p.Name = name
	p.Spec.Tier, p.Spec.Order, p.Spec.Selector, p.Spec.Types, p.Spec.Ingress, p.Spec.Egress = tier, &order, sel, types, ingress, egress
	return p
}

// gnp is globalpol with a change to its spec (preDNAT, namespaceSelector…).
func gnp(p *v3.GlobalNetworkPolicy, mod func(*v3.GlobalNetworkPolicySpec)) *v3.GlobalNetworkPolicy {
	mod(&p.Spec)
	return p
}

func tierObj(name string, order float64, action v3.Action) *v3.Tier {
	t := v3.NewTier()
	t.Name = name
	t.Spec.Order, t.Spec.DefaultAction = &order, &action
	return t
}

// nsProfile is the kns.<ns> profile Calico derives from a namespace, with
// the given rules.
func nsProfile(ns string, ingress, egress []v3.Rule) *v3.Profile {
	p := v3.NewProfile()
	p.Name = "kns." + ns
	p.Spec.LabelsToApply = map[string]string{"pcns.projectcalico.org/name": ns}
	for k, v := range namespaceLabels[ns] {
		p.Spec.LabelsToApply["pcns."+k] = v
	}
	p.Spec.Ingress, p.Spec.Egress = ingress, egress
	return p
}

func globalNetSet(name string, labels map[string]string, nets ...string) *v3.GlobalNetworkSet {
	s := v3.NewGlobalNetworkSet()
	s.Name, s.Labels, s.Spec.Nets = name, labels, nets
	return s
}

func netSet(ns, name string, labels map[string]string, nets ...string) *v3.NetworkSet {
	s := v3.NewNetworkSet()
	s.Namespace, s.Name, s.Labels, s.Spec.Nets = ns, name, labels, nets
	return s
}

// eth1Endpoint is the host endpoint for the node's eth1.
func eth1Endpoint() *v3.HostEndpoint {
	h := v3.NewHostEndpoint()
	h.Name, h.Labels = "node-a-eth1", map[string]string{"role": "host"}
	h.Spec = v3.HostEndpointSpec{Node: nodeName, InterfaceName: "eth1", ExpectedIPs: []string{hostIP}}
	return h
}

// allInterfacesEndpoint is a wildcard host endpoint: every host interface
// of the node (eth1 and lo here; never the workload interfaces).
func allInterfacesEndpoint() *v3.HostEndpoint {
	h := v3.NewHostEndpoint()
	h.Name, h.Labels = "node-a-all", map[string]string{"role": "host"}
	h.Spec = v3.HostEndpointSpec{Node: nodeName, InterfaceName: "*"}
	return h
}

// expectedIPsEndpoint names no interface: it covers the interface that
// holds the node's address (eth1).
func expectedIPsEndpoint() *v3.HostEndpoint {
	h := v3.NewHostEndpoint()
	h.Name, h.Labels = "node-a-by-ip", map[string]string{"role": "host"}
	h.Spec = v3.HostEndpointSpec{Node: nodeName, ExpectedIPs: []string{hostIP}}
	return h
}

func felixConfig(mod func(*v3.FelixConfigurationSpec)) *v3.FelixConfiguration {
	fc := v3.NewFelixConfiguration()
	fc.Name = "default"
	mod(&fc.Spec)
	return fc
}

func natPool() *v3.IPPool {
	p := v3.NewIPPool()
	p.Name = "default-ipv4-ippool"
	p.Spec.CIDR, p.Spec.NATOutgoing, p.Spec.BlockSize = "10.244.0.0/16", true, 26
	return p
}

var (
	ingress     = []v3.PolicyType{v3.PolicyTypeIngress}
	egress      = []v3.PolicyType{v3.PolicyTypeEgress}
	bothWays    = []v3.PolicyType{v3.PolicyTypeIngress, v3.PolicyTypeEgress}
	allowRule   = []v3.Rule{{Action: v3.Allow}}
	trustedSets = []v3.Resource{
		globalNetSet("trusted-global", map[string]string{"trust": "yes"}, "10.244.0.10/32"),
		netSet("b", "trusted-local", map[string]string{"trust": "yes"}, "10.244.0.11/32"),
	}
)

func protoPtr(s string) *numorstring.Protocol { p := numorstring.ProtocolFromString(s); return &p }
func protoNum(n uint8) *numorstring.Protocol  { p := numorstring.ProtocolFromInt(n); return &p }
func intPtr(i int) *int                       { return &i }

func ports(ps ...any) []numorstring.Port {
	var out []numorstring.Port
	for _, p := range ps {
		switch p := p.(type) {
		case int:
			out = append(out, numorstring.SinglePort(uint16(p)))
		case string:
			out = append(out, numorstring.NamedPort(p))
		case [2]int:
			out = append(out, numorstring.Port{MinPort: uint16(p[0]), MaxPort: uint16(p[1])})
		}
	}
	return out
}

func objs(os ...v3.Resource) []v3.Resource { return os }

// --- the cases ---

func matrixCases() []matrixCase {
	return []matrixCase{
		// Kubernetes-style policy: isolation, allow by label, namespaces.
		{name: "no-policy-profiles-allow", expect: baseline},
		{
			name:   "default-deny-ingress-on-db",
			objs:   objs(netpol("b", "deny-db", "role == 'db'", ingress, nil, nil)),
			expect: deny(to(pDB)),
		},
		{
			name:   "default-deny-egress-from-db",
			objs:   objs(netpol("b", "db-no-egress", "role == 'db'", egress, nil, nil)),
			expect: deny(from(pDB)),
		},
		{
			name:   "default-deny-both-ways-for-namespace-b",
			objs:   objs(netpol("b", "isolate", "all()", bothWays, nil, nil)),
			expect: deny(anyOf(to(pDB, pWebB), from(pDB, pWebB))),
		},
		{
			name: "allow-tcp80-to-db-from-web-label",
			objs: objs(netpol("b", "db-from-web", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"),
				Source:      v3.EntityRule{Selector: "role == 'web'", NamespaceSelector: "all()"},
				Destination: v3.EntityRule{Ports: ports(80)},
			}}, nil)),
			expect: restrict(to(pDB), from(pWebA, pWebB), on(tcp80)),
		},
		{
			name: "np-allow-from-own-namespace-only",
			objs: objs(netpol("b", "same-ns", "all()", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Selector: "all()"},
			}}, nil)),
			expect: restrict(to(pDB, pWebB), from(pDB, pWebB)),
		},
		{
			name: "np-rule-selector-is-scoped-to-its-namespace",
			objs: objs(netpol("b", "db-from-client", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Selector: "role == 'client'"}, // client is in a
			}}, nil)),
			expect: deny(to(pDB)),
		},
		{
			name: "namespace-selector-by-label",
			objs: objs(netpol("b", "from-team-b", "all()", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NamespaceSelector: "team == 'team-b'"}, // b and d
			}}, nil)),
			expect: restrict(to(pDB, pWebB), from(pDB, pWebB, pAPI)),
		},
		{
			name: "namespace-selector-and-selector",
			objs: objs(netpol("b", "db-from-prod-api", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NamespaceSelector: "env == 'prod'", Selector: "role == 'api'"},
			}}, nil)),
			expect: restrict(to(pDB), from(pAPI)),
		},
		{
			name: "namespace-selector-global-matches-only-global-sets",
			objs: append(objs(netpol("b", "db-from-global", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Selector: "trust == 'yes'", NamespaceSelector: "global()"},
			}}, nil)), trustedSets...),
			expect: restrict(to(pDB), from(pClient)),
		},
		{
			name: "np-selector-matches-own-namespace-network-set",
			objs: append(objs(netpol("b", "db-from-local-set", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Selector: "trust == 'yes'"},
			}}, nil)), trustedSets...),
			expect: restrict(to(pDB), from(pWebA)),
		},
		{
			name: "gnp-selector-matches-global-and-namespaced-sets",
			objs: append(objs(globalpol("db-from-sets", "default", 10, "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Selector: "trust == 'yes'"},
			}}, nil)), trustedSets...),
			expect: restrict(to(pDB), from(pClient, pWebA)),
		},
		// Service accounts.
		{
			name: "service-account-by-name",
			objs: objs(globalpol("db-from-prometheus", "default", 10, "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{ServiceAccounts: &v3.ServiceAccountMatch{Names: []string{"prometheus"}}},
			}}, nil)),
			expect: restrict(to(pDB), from(pMonitor)),
		},
		{
			name: "service-account-by-selector-in-other-namespace",
			objs: objs(netpol("b", "db-from-scrapers", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{
					NamespaceSelector: "team == 'ops'", ServiceAccounts: &v3.ServiceAccountMatch{Selector: "role == 'scraper'"}},
			}}, nil)),
			expect: restrict(to(pDB), from(pMonitor)),
		},
		{
			name: "service-account-names-in-np-are-scoped-to-its-namespace",
			objs: objs(netpol("b", "db-from-default-sa", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{ServiceAccounts: &v3.ServiceAccountMatch{Names: []string{"default"}}},
			}}, nil)),
			expect: restrict(to(pDB), from(pWebB)),
		},
		{
			name: "policy-service-account-selector",
			objs: objs(gnp(globalpol("scrapers-no-egress", "default", 10, "all()", egress, nil, nil),
				func(s *v3.GlobalNetworkPolicySpec) { s.ServiceAccountSelector = "role == 'scraper'" })),
			expect: deny(from(pMonitor)),
		},
		// Ports, protocols, ICMP, IP version.
		{
			name: "port-list",
			objs: objs(netpol("b", "web-ports", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(80, 8080)},
			}}, nil)),
			expect: restrict(to(pWebB), on(tcp80, tcp8080)),
		},
		{
			name: "port-range",
			objs: objs(netpol("b", "web-range", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports([2]int{8000, 8100})},
			}}, nil)),
			expect: restrict(to(pWebB), on(tcp8080)),
		},
		{
			name: "not-ports-range",
			objs: objs(netpol("b", "web-not-range", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{NotPorts: ports([2]int{8000, 8100})},
			}}, nil)),
			expect: restrict(to(pWebB), on(tcp80)),
		},
		{
			name: "protocol-by-number",
			objs: objs(netpol("a", "web-udp", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoNum(17),
			}}, nil)),
			expect: restrict(to(pWebA), on(udp53)),
		},
		{
			name: "not-protocol",
			objs: objs(netpol("a", "web-not-tcp", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, NotProtocol: protoPtr("TCP"),
			}}, nil)),
			expect: restrict(to(pWebA), on(udp53, icmpEcho)),
		},
		{
			name: "named-port-tcp-http-on-db",
			objs: objs(netpol("b", "db-http", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports("http")},
			}}, nil)),
			expect: restrict(to(pDB), on(tcp8080)),
		},
		{
			name: "named-port-udp-dns-on-db",
			objs: objs(netpol("b", "db-dns", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("UDP"), Destination: v3.EntityRule{Ports: ports("dns")},
			}}, nil)),
			expect: restrict(to(pDB), on(udp53)),
		},
		{
			name: "egress-to-named-port-anywhere",
			objs: objs(netpol("a", "client-to-http", "role == 'client'", egress, nil, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports("http")},
			}})),
			expect: restrict(from(pClient), to(pDB), on(tcp8080)),
		},
		{
			name: "icmp-type-and-code",
			objs: objs(netpol("a", "web-ping", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("ICMP"), ICMP: &v3.ICMPFields{Type: intPtr(8), Code: intPtr(0)},
			}}, nil)),
			expect: restrict(to(pWebA), on(icmpEcho)),
		},
		{
			name: "icmp-other-type-does-not-match-echo",
			objs: objs(netpol("a", "web-echo-reply-only", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("ICMP"), ICMP: &v3.ICMPFields{Type: intPtr(0)},
			}}, nil)),
			expect: deny(to(pWebA)),
		},
		{
			name: "not-icmp-type",
			objs: objs(netpol("a", "web-no-echo", "role == 'web'", ingress, []v3.Rule{
				{Action: v3.Allow, Protocol: protoPtr("ICMP"), NotICMP: &v3.ICMPFields{Type: intPtr(8)}},
				{Action: v3.Allow, Protocol: protoPtr("TCP")},
			}, nil)),
			expect: restrict(to(pWebA), proto("tcp")),
		},
		{
			name: "ip-version",
			objs: objs(netpol("a", "web-v6-all-v4-udp", "role == 'web'", ingress, []v3.Rule{
				{Action: v3.Allow, IPVersion: intPtr(6)},
				{Action: v3.Allow, IPVersion: intPtr(4), Protocol: protoPtr("UDP")},
			}, nil)),
			expect: restrict(to(pWebA), on(udp53)),
		},
		// Nets and selectors.
		{
			name: "egress-nets-not-nets",
			objs: objs(netpol("a", "client-out", "role == 'client'", egress, nil, []v3.Rule{{
				Action:      v3.Allow,
				Destination: v3.EntityRule{Nets: []string{"10.244.0.0/24"}, NotNets: []string{"10.244.0.12/32"}},
			}})),
			expect: restrict(from(pClient), to(pWebA, pWebB, pMonitor, pAPI)),
		},
		{
			name: "ingress-source-nets-outside-only",
			objs: objs(netpol("b", "db-from-fabric", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{Nets: []string{"198.18.1.0/24"}},
			}}, nil)),
			expect: restrict(to(pDB), from(pHost, pOutside)),
		},
		{
			name: "ingress-source-not-nets",
			objs: objs(netpol("b", "db-not-from-a", "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NotNets: []string{"10.244.0.8/30"}}, // client, web-a
			}}, nil)),
			expect: restrict(to(pDB), not(from(pClient, pWebA))),
		},
		{
			name: "gnp-not-selector",
			objs: objs(globalpol("db-not-from-webs", "default", 10, "role == 'db'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NotSelector: "role == 'web'"},
			}}, nil)),
			expect: restrict(to(pDB), not(from(pWebA, pWebB))),
		},
		{
			// As libcalico-go: a notSelector alone still limits the rule
			// to the policy's namespace (a's non-web pods: the client).
			name: "np-not-selector-keeps-own-namespace",
			objs: objs(netpol("a", "web-not-from-webs", "role == 'web'", ingress, []v3.Rule{{
				Action: v3.Allow, Source: v3.EntityRule{NotSelector: "role == 'web'"},
			}}, nil)),
			expect: restrict(to(pWebA), from(pClient)),
		},
		{
			name: "gnp-egress-to-selector",
			objs: objs(globalpol("client-only-to-db", "default", 10, "role == 'client'", egress, nil, []v3.Rule{{
				Action: v3.Allow, Destination: v3.EntityRule{Selector: "role == 'db'"},
			}})),
			expect: restrict(from(pClient), to(pDB)),
		},
		// Policy scoping.
		{
			name:   "gnp-applies-in-every-namespace",
			objs:   objs(globalpol("webs-closed", "default", 10, "role == 'web'", ingress, nil, nil)),
			expect: deny(to(pWebA, pWebB)),
		},
		{
			name:   "np-applies-only-in-its-namespace",
			objs:   objs(netpol("a", "webs-closed", "role == 'web'", ingress, nil, nil)),
			expect: deny(to(pWebA)),
		},
		{
			name: "gnp-namespace-selector",
			objs: objs(gnp(globalpol("team-b-closed", "default", 10, "all()", ingress, nil, nil),
				func(s *v3.GlobalNetworkPolicySpec) { s.NamespaceSelector = "team == 'team-b'" })),
			expect: deny(to(pDB, pWebB, pAPI)),
		},
		{
			name: "policy-order-first-match-wins",
			objs: objs(
				globalpol("deny-client-80", "default", 1, "all()", ingress, []v3.Rule{{
					Action: v3.Deny, Protocol: protoPtr("TCP"),
					Source: v3.EntityRule{Selector: "role == 'client'"}, Destination: v3.EntityRule{Ports: ports(80)},
				}}, nil),
				globalpol("allow-rest", "default", 2, "all()", ingress, allowRule, nil),
			),
			expect: deny(allOf(from(pClient), to(knownPods...), on(tcp80))),
		},
		// Tiers, Pass, Log.
		{
			name: "tier-deny-client-then-pass",
			objs: objs(
				tierObj("security", 10, v3.Deny),
				globalpol("security.quarantine", "security", 1, "all()", ingress, []v3.Rule{
					{Action: v3.Deny, Source: v3.EntityRule{Selector: "role == 'client'"}},
					{Action: v3.Pass},
				}, nil),
			),
			// Client is denied into every pod; the rest passes to the
			// default tier (no policy there) and the profiles allow.
			expect: deny(allOf(from(pClient), to(knownPods...))),
		},
		{
			name: "tier-default-deny-without-pass",
			objs: objs(
				tierObj("security", 10, v3.Deny),
				globalpol("security.tcp-only", "security", 1, "role == 'web'", ingress, []v3.Rule{
					{Action: v3.Allow, Protocol: protoPtr("TCP")},
				}, nil),
			),
			expect: restrict(to(pWebA, pWebB), proto("tcp")),
		},
		{
			name: "tier-default-pass-to-next-tier",
			objs: objs(
				tierObj("security", 10, v3.Pass),
				globalpol("security.web-tcp", "security", 1, "role == 'web'", ingress, []v3.Rule{
					{Action: v3.Allow, Protocol: protoPtr("TCP")},
				}, nil),
				globalpol("web-rest", "default", 1, "role == 'web'", ingress, []v3.Rule{
					{Action: v3.Deny, Protocol: protoPtr("UDP")},
					{Action: v3.Allow, Protocol: protoPtr("ICMP")},
				}, nil),
			),
			expect: restrict(to(pWebA, pWebB), not(proto("udp"))),
		},
		{
			name: "pass-skips-rest-of-tier",
			objs: objs(
				tierObj("security", 10, v3.Deny),
				globalpol("security.pass-client", "security", 1, "all()", ingress, []v3.Rule{
					{Action: v3.Pass, Source: v3.EntityRule{Selector: "role == 'client'"}},
				}, nil),
				globalpol("security.deny-rest", "security", 2, "all()", ingress, []v3.Rule{{Action: v3.Deny}}, nil),
			),
			expect: restrict(to(knownPods...), from(pClient)),
		},
		{
			name: "pass-to-profiles",
			objs: objs(
				tierObj("security", 10, v3.Deny),
				globalpol("security.monitor-pass", "security", 1, "role == 'monitor'", ingress, []v3.Rule{{Action: v3.Pass}}, nil),
				nsProfile("c", []v3.Rule{{Action: v3.Allow, Protocol: protoPtr("TCP")}}, allowRule),
			),
			expect: restrict(to(pMonitor), proto("tcp")),
		},
		{
			name: "log-then-continue",
			objs: objs(netpol("b", "db-log", "role == 'db'", ingress, []v3.Rule{
				{Action: v3.Log, Protocol: protoPtr("TCP")},
				{Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(80)}},
			}, nil)),
			expect: restrict(to(pDB), on(tcp80)),
			check: func(t *testing.T, l *lab) {
				// Six participants (five pods and the outside; the host's
				// traffic to pods is not policed) sent tcp/80 and tcp/8080
				// to db: each first SYN went through the Log rule before
				// the Allow rule decided.
				if n := l.ruleCounter(t, "pi-default/b/db-log", "log prefix"); n < 2*6 {
					t.Errorf("Log rule counted %d packets, want at least 12 (one SYN per TCP probe to db)", n)
				}
			},
		},
		{
			name:   "staged-policies-are-never-enforced",
			objs:   objs(stagedDenyAll(), stagedGlobalDenyAll()),
			expect: baseline,
		},
		// Profiles.
		{
			name: "profile-rules-without-policy",
			objs: objs(nsProfile("d", []v3.Rule{
				{Action: v3.Deny, Source: v3.EntityRule{Nets: []string{"10.244.0.10/32"}}},
				{Action: v3.Allow},
			}, allowRule)),
			expect: deny(allOf(from(pClient), to(pAPI))),
		},
		{
			name:   "missing-profile-fails-closed",
			objs:   objs(withProfiles(pAPI, "kns.no-such-namespace")),
			expect: deny(anyOf(from(pAPI), to(pAPI))),
		},
		// Workload to host.
		{
			name:   "endpoint-to-host-accept",
			objs:   objs(felixConfig(func(s *v3.FelixConfigurationSpec) { s.DefaultEndpointToHostAction = "Accept" })),
			expect: endpointToHostAllowed,
		},
		{
			name: "endpoint-to-host-return-after-egress-policy",
			objs: objs(
				felixConfig(func(s *v3.FelixConfigurationSpec) { s.DefaultEndpointToHostAction = "Return" }),
				netpol("a", "client-no-egress", "role == 'client'", egress, nil, nil),
			),
			expect: allOf(endpointToHostAllowed, not(from(pClient))),
		},
		// Host endpoint eth1.
		{
			name: "host-endpoint-ingress-policy",
			objs: objs(eth1Endpoint(), globalpol("host-web", "default", 1, "role == 'host'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(80)},
			}}, nil)),
			// Forwarded traffic is untouched (no applyOnForward); the
			// host's own egress on eth1 has no policy: denied but for
			// the failsafe outbound ports (udp/53 among them).
			expect: allOf(
				restrict(allOf(from(pOutside), to(pHost)), on(tcp80)),
				restrict(allOf(from(pHost), to(pOutside)), on(udp53))),
		},
		{
			name: "host-endpoint-apply-on-forward",
			objs: objs(eth1Endpoint(), gnp(globalpol("host-tcp-in", "default", 1, "role == 'host'", bothWays,
				[]v3.Rule{{Action: v3.Allow, Protocol: protoPtr("TCP")}}, allowRule),
				func(s *v3.GlobalNetworkPolicySpec) { s.ApplyOnForward = true })),
			expect: restrict(from(pOutside), proto("tcp")),
		},
		{
			name: "host-endpoint-pre-dnat-deny",
			objs: objs(eth1Endpoint(),
				gnp(globalpol("host-prednat", "default", 1, "role == 'host'", ingress, []v3.Rule{{
					Action: v3.Deny, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(8080)},
				}}, nil), func(s *v3.GlobalNetworkPolicySpec) { s.PreDNAT, s.ApplyOnForward = true, true }),
				globalpol("host-open", "default", 2, "role == 'host'", bothWays, allowRule, allowRule),
			),
			expect: deny(allOf(from(pOutside), on(tcp8080))),
		},
		{
			name: "host-endpoint-untracked-deny-is-stateless",
			objs: objs(eth1Endpoint(),
				gnp(globalpol("host-untracked", "default", 1, "role == 'host'", ingress, []v3.Rule{{
					Action: v3.Deny, Protocol: protoPtr("ICMP"),
				}}, nil), func(s *v3.GlobalNetworkPolicySpec) { s.DoNotTrack, s.ApplyOnForward = true, true }),
				globalpol("host-open", "default", 2, "role == 'host'", bothWays, allowRule, allowRule),
			),
			// Untracked ingress policy sees the echo replies coming back
			// in on eth1 too: pings out of eth1 fail as well.
			expect: deny(allOf(anyOf(from(pOutside), to(pOutside)), proto("icmp"))),
		},
		// The same host policy on a wildcard and on an expectedIPs-only
		// endpoint: eth1 is covered exactly as by the named one, and
		// workload traffic (pods ↔ host, pods ↔ pods) is not the wildcard's.
		{
			name: "wildcard-host-endpoint-ingress-policy",
			objs: objs(allInterfacesEndpoint(), globalpol("host-web", "default", 1, "role == 'host'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(80)},
			}}, nil)),
			expect: allOf(
				restrict(allOf(from(pOutside), to(pHost)), on(tcp80)),
				restrict(allOf(from(pHost), to(pOutside)), on(udp53))),
		},
		{
			name: "wildcard-host-endpoint-apply-on-forward",
			objs: objs(allInterfacesEndpoint(), gnp(globalpol("host-tcp-in", "default", 1, "role == 'host'", bothWays,
				[]v3.Rule{{Action: v3.Allow, Protocol: protoPtr("TCP")}}, allowRule),
				func(s *v3.GlobalNetworkPolicySpec) { s.ApplyOnForward = true })),
			expect: restrict(from(pOutside), proto("tcp")),
		},
		{
			name: "expected-ips-host-endpoint-ingress-policy",
			objs: objs(expectedIPsEndpoint(), globalpol("host-web", "default", 1, "role == 'host'", ingress, []v3.Rule{{
				Action: v3.Allow, Protocol: protoPtr("TCP"), Destination: v3.EntityRule{Ports: ports(80)},
			}}, nil)),
			expect: allOf(
				restrict(allOf(from(pOutside), to(pHost)), on(tcp80)),
				restrict(allOf(from(pHost), to(pOutside)), on(udp53))),
		},
		// Pools.
		{
			name:   "nat-outgoing",
			objs:   objs(natPool()),
			expect: baseline,
			check: func(t *testing.T, l *lab) {
				if got := l.seenByOutside(t, pClient); got != hostIP {
					t.Errorf("with natOutgoing the outside saw client's connection from %s, want the node's %s", got, hostIP)
				}
			},
		},
	}
}

func stagedDenyAll() *v3.StagedNetworkPolicy {
	p := v3.NewStagedNetworkPolicy()
	p.Namespace, p.Name = "b", "staged-deny-all"
	p.Spec.Selector, p.Spec.Types = "all()", bothWays
	return p
}

func stagedGlobalDenyAll() *v3.StagedGlobalNetworkPolicy {
	p := v3.NewStagedGlobalNetworkPolicy()
	p.Name = "staged-global-deny-all"
	p.Spec.Selector, p.Spec.Types = "all()", bothWays
	return p
}

// withProfiles is pod i's endpoint naming other profiles.
func withProfiles(i int, profiles ...string) *v3.WorkloadEndpoint {
	w := podEndpoint(podSpecsFor(false)[i])
	w.Spec.Profiles = profiles
	return w
}

// TestPrivilegedPolicy_TrafficMatrix programs each case into the real
// node namespace (incrementally, from the previous case's state: removing
// one case's objects is tested by the next) and probes TCP/80, TCP/8080,
// UDP/53 and ICMP echo between every pair of participants.
func TestPrivilegedPolicy_TrafficMatrix(t *testing.T) {
	l := newLab(t)
	for _, tc := range matrixCases() {
		t.Run(tc.name, func(t *testing.T) { l.runCase(t, tc) })
	}
}

// runCase programs one matrix case (from the previous case's state),
// asserts its reachability and runs its extra check.
func (l *lab) runCase(t *testing.T, tc matrixCase) {
	t.Helper()
	l.setObjects(t, tc.objs...)
	// Flows the previous case allowed stay established (as in Calico, a
	// policy change does not cut them); each case judges new connections
	// only.
	l.flushConntrack(t)
	if l.dualStack {
		// And IPv6 next hops are resolved afresh, under this case's policy.
		l.flushNeighbours(t)
	}
	if tc.setup != nil {
		tc.setup(t, l)
	}
	l.assertMatrix(t, tc.expect)
	if tc.check != nil {
		tc.check(t, l)
	}
	// TRICOLOR_DUMP_CASE=<case> logs the table as the case left it (the
	// excerpt in docs/felix.md comes from here).
	if os.Getenv("TRICOLOR_DUMP_CASE") == tc.name {
		t.Logf("nft list table inet %s after %s:\n%s", TableName, tc.name, l.listTable(t))
	}
}

// flushConntrack empties the node's connection tracking table.
func (l *lab) flushConntrack(t *testing.T) {
	t.Helper()
	h, err := vnetns.GetFromPath("/run/netns/" + l.node.name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	if err := nl.ConntrackTableFlush(netlink.ConntrackTable); err != nil {
		t.Fatalf("flush conntrack in %s: %v", l.node.name, err)
	}
}

// ruleCounter is the packet counter of the rule in chain whose text
// contains match.
func (l *lab) ruleCounter(t *testing.T, chain, match string) int {
	t.Helper()
	for _, line := range strings.Split(l.node.exec(t, "nft", "list", "chain", "inet", TableName, chain), "\n") {
		if !strings.Contains(line, match) {
			continue
		}
		if m := packetsRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	t.Fatalf("no counted rule containing %q in chain %s:\n%s", match, chain, l.listTable(t))
	return 0
}

// seenByOutside connects from participant i to the outside's whoami port
// and returns the source address the outside saw.
func (l *lab) seenByOutside(t *testing.T, i int) string {
	t.Helper()
	var got string
	if err := l.pods[i].ns.do(func() error {
		c, err := net.DialTimeout("tcp4", net.JoinHostPort(outsideIP, strconv.Itoa(whoamiPort)), 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		got, err = bufio.NewReader(c).ReadString('\n')
		return err
	}); err != nil {
		t.Fatalf("%s to the outside's whoami: %v", participantName(i), err)
	}
	return strings.TrimSpace(got)
}
