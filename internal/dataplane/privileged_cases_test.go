package dataplane

import (
	"testing"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Policy objects for the traffic matrix. Pods: 0 a/client, 1 a/web,
// 2 b/db (named port http = tcp/8080), 3 b/web, 4 unknown interface.

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

func tierObj(name string, order float64, action v3.Action) *v3.Tier {
	t := v3.NewTier()
	t.Name = name
	t.Spec.Order, t.Spec.DefaultAction = &order, &action
	return t
}

var (
	ingress = []v3.PolicyType{v3.PolicyTypeIngress}
	egress  = []v3.PolicyType{v3.PolicyTypeEgress}
)

func protoPtr(s string) *numorstring.Protocol { p := numorstring.ProtocolFromString(s); return &p }
func intPtr(i int) *int                       { return &i }

func portRange(t *testing.T, lo, hi uint16) numorstring.Port {
	p, err := numorstring.PortRange(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// matrixCase is one policy scenario and the reachability it must produce.
type matrixCase struct {
	name   string
	objs   func(t *testing.T) []v3.Resource
	expect expectFn
}

func allowAll(int, int, probe) bool { return true }

func matrixCases() []matrixCase {
	return []matrixCase{
		{name: "no-policy-profiles-allow", objs: func(*testing.T) []v3.Resource { return nil }, expect: allowAll},
		{
			name: "default-deny-ingress-on-db",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("b", "deny-db", "role == 'db'", ingress, nil, nil)}
			},
			expect: func(s, d int, pr probe) bool { return d != 2 },
		},
		{
			name: "allow-tcp80-to-db-from-web-label",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("b", "db-from-web", "role == 'db'", ingress, []v3.Rule{{
					Action: v3.Allow, Protocol: protoPtr("TCP"),
					Source:      v3.EntityRule{Selector: "role == 'web'", NamespaceSelector: "all()"},
					Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.SinglePort(80)}},
				}}, nil)}
			},
			expect: func(s, d int, pr probe) bool {
				if d == 2 {
					return (s == 1 || s == 3) && pr == probe{"tcp", 80}
				}
				return true
			},
		},
		{
			name: "namespace-selector-only-team-a",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("b", "from-team-a", "all()", ingress, []v3.Rule{{
					Action: v3.Allow, Source: v3.EntityRule{NamespaceSelector: "team == 'team-a'"},
				}}, nil)}
			},
			// Pods in b accept only from namespace a (not from each other).
			expect: func(s, d int, pr probe) bool { return d < 2 || s < 2 },
		},
		{
			name: "port-range-to-web-b",
			objs: func(t *testing.T) []v3.Resource {
				return []v3.Resource{netpol("b", "web-range", "role == 'web'", ingress, []v3.Rule{{
					Action: v3.Allow, Protocol: protoPtr("TCP"),
					Destination: v3.EntityRule{Ports: []numorstring.Port{portRange(t, 8000, 8100)}},
				}}, nil)}
			},
			expect: func(s, d int, pr probe) bool { return d != 3 || pr == probe{"tcp", 8080} },
		},
		{
			name: "named-port-http-on-db",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("b", "db-http", "role == 'db'", ingress, []v3.Rule{{
					Action: v3.Allow, Protocol: protoPtr("TCP"),
					Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.NamedPort("http")}},
				}}, nil)}
			},
			expect: func(s, d int, pr probe) bool { return d != 2 || pr == probe{"tcp", 8080} },
		},
		{
			name: "icmp-echo-only-to-web-a",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("a", "web-ping", "role == 'web'", ingress, []v3.Rule{{
					Action: v3.Allow, Protocol: protoPtr("ICMP"), ICMP: &v3.ICMPFields{Type: intPtr(8), Code: intPtr(0)},
				}}, nil)}
			},
			expect: func(s, d int, pr probe) bool { return d != 1 || pr.proto == "icmp" },
		},
		{
			name: "egress-nets-not-nets-from-client",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{netpol("a", "client-out", "role == 'client'", egress, nil, []v3.Rule{{
					Action:      v3.Allow,
					Destination: v3.EntityRule{Nets: []string{"10.244.0.0/24"}, NotNets: []string{"10.244.0.12/32"}},
				}})}
			},
			expect: func(s, d int, pr probe) bool { return s != 0 || d != 2 },
		},
		{
			name: "tiers-deny-client-then-pass",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{
					tierObj("security", 10, v3.Deny),
					globalpol("security.quarantine", "security", 1, "all()", ingress, []v3.Rule{
						{Action: v3.Deny, Source: v3.EntityRule{Selector: "role == 'client'"}},
						{Action: v3.Pass},
					}, nil),
				}
			},
			// Client is denied into everyone; everything else passes to
			// the default tier (no policy there) and the profiles allow.
			expect: func(s, d int, pr probe) bool { return s != 0 },
		},
		{
			name: "tier-default-deny-without-pass",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{
					tierObj("security", 10, v3.Deny),
					globalpol("security.tcp-only", "security", 1, "role == 'web'", ingress, []v3.Rule{
						{Action: v3.Log, Protocol: protoPtr("TCP")},
						{Action: v3.Allow, Protocol: protoPtr("TCP")},
					}, nil),
				}
			},
			// Webs take only TCP: UDP and ICMP reach the tier's end: Deny.
			expect: func(s, d int, pr probe) bool { return (d != 1 && d != 3) || pr.proto == "tcp" },
		},
		{
			name: "global-deny-udp-and-egress-deny-from-db",
			objs: func(*testing.T) []v3.Resource {
				return []v3.Resource{
					globalpol("deny-udp", "default", 5, "all()", ingress, []v3.Rule{
						{Action: v3.Deny, Protocol: protoPtr("UDP")},
						{Action: v3.Allow},
					}, nil),
					netpol("b", "db-no-egress", "role == 'db'", egress, nil, nil),
				}
			},
			expect: func(s, d int, pr probe) bool { return pr.proto != "udp" && s != 2 },
		},
	}
}

// TestPrivilegedPolicy_TrafficMatrix programs each case into a real node
// namespace (incrementally, from the previous case's state) and probes
// TCP/UDP/ICMP between every pair of pods.
func TestPrivilegedPolicy_TrafficMatrix(t *testing.T) {
	l := newLab(t)
	for _, tc := range matrixCases() {
		t.Run(tc.name, func(t *testing.T) {
			l.setObjects(t, tc.objs(t)...)
			l.assertMatrix(t, tc.expect)
		})
	}
}
