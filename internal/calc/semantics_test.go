package calc

import (
	"slices"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// base is two namespaces with Calico's namespace profiles.
func base(t testing.TB) state {
	return res(t, nsProfile("ns1", lbl("team", "blue")), nsProfile("ns2", lbl("team", "red")),
		tier("default", 1_000_000, v3.Deny))
}

func wepID(ns, name string) WorkloadEndpointID { return WorkloadEndpointID{Namespace: ns, Name: name} }

// setOf returns the members of the IP set the first rule of a policy uses
// on the given side.
func firstRuleSet(t *testing.T, m *model, id PolicyID, src bool) []string {
	t.Helper()
	p := m.policies[id]
	if p == nil || len(p.InboundRules) == 0 {
		t.Fatalf("policy %v not active or without rules; have %v", id, mapByString(m.policies))
	}
	r := p.InboundRules[0]
	ids := r.DstIPSetIDs
	if src {
		ids = r.SrcIPSetIDs
	}
	if len(ids) != 1 {
		t.Fatalf("policy %v rule 0: want one set, got %v", id, ids)
	}
	var out []string
	for mbr := range m.sets[ids[0]] {
		out = append(out, mbr)
	}
	slices.Sort(out)
	return out
}

func ingressIDs(tiers []TierInfo) []string {
	var out []string
	for _, ti := range tiers {
		for _, id := range ti.IngressPolicies {
			out = append(out, ti.Name+":"+id.String())
		}
	}
	return out
}

func TestGraph_PolicySemantics(t *testing.T) {
	dflt := func(ns, name string) PolicyID { return PolicyID{Tier: "default", Namespace: ns, Name: name} }
	tcp := numorstring.ProtocolFromString("TCP")
	cases := []struct {
		name  string
		state func(t *testing.T) state
		check func(t *testing.T, m *model)
	}{
		{
			name: "endpoint selected by no policy falls through to its namespace profile",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("app", "a"))))
			},
			check: func(t *testing.T, m *model) {
				w := m.weps[wepID("ns1", "a")]
				if w == nil || len(w.Tiers) != 0 || !slices.Equal(w.Profiles, []string{"kns.ns1"}) {
					t.Fatalf("endpoint = %+v", w)
				}
				if p := m.profiles["kns.ns1"]; p == nil || p.Missing || p.InboundRules[0].Action != v3.Allow {
					t.Fatalf("profile kns.ns1 = %+v", p)
				}
				if w.Labels["pcns.team"] != "blue" || w.Labels[LabelNamespace] != "ns1" {
					t.Errorf("labels = %v; want inherited pcns.team and the namespace label", w.Labels)
				}
			},
		},
		{
			name: "namespaced policy selects only endpoints in its namespace",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("app", "x")), wep("ns2", "b", "10.0.0.2", lbl("app", "x")),
					np("ns1", "p", "app == 'x'", nil, allowFrom(""))))
			},
			check: func(t *testing.T, m *model) {
				if got := ingressIDs(m.weps[wepID("ns1", "a")].Tiers); !slices.Equal(got, []string{"default:ns1/p"}) {
					t.Errorf("ns1/a tiers = %v", got)
				}
				if got := m.weps[wepID("ns2", "b")].Tiers; len(got) != 0 {
					t.Errorf("ns2/b tiers = %v; want none", got)
				}
			},
		},
		{
			name: "namespaced policy rule selector is scoped to its namespace",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("app", "x")), wep("ns2", "b", "10.0.0.2", lbl("app", "x")),
					np("ns1", "p", "", nil, allowFrom("app == 'x'"))))
			},
			check: func(t *testing.T, m *model) {
				if got := firstRuleSet(t, m, dflt("ns1", "p"), true); !slices.Equal(got, []string{"10.0.0.1/32"}) {
					t.Errorf("members = %v; want only ns1's endpoint", got)
				}
			},
		},
		{
			name: "namespaceSelector matches namespace labels inherited from kns profiles",
			state: func(t *testing.T) state {
				r := v3.Rule{Action: v3.Allow, Source: v3.EntityRule{NamespaceSelector: "team == 'red'"}}
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", nil), wep("ns2", "b", "10.0.0.2", nil),
					np("ns1", "p", "", nil, r)))
			},
			check: func(t *testing.T, m *model) {
				if got := firstRuleSet(t, m, dflt("ns1", "p"), true); !slices.Equal(got, []string{"10.0.0.2/32"}) {
					t.Errorf("members = %v; want ns2's endpoint", got)
				}
			},
		},
		{
			name: "global() namespaceSelector matches only non-namespaced items",
			state: func(t *testing.T) state {
				r := v3.Rule{Action: v3.Allow, Source: v3.EntityRule{NamespaceSelector: "global()", Selector: "role == 'ext'"}}
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("role", "ext")),
					netset("", "g", lbl("role", "ext"), "192.0.2.0/24"), netset("ns1", "n", lbl("role", "ext"), "198.51.100.0/24"),
					gnp("p", "all()", nil, r)))
			},
			check: func(t *testing.T, m *model) {
				if got := firstRuleSet(t, m, dflt("", "p"), true); !slices.Equal(got, []string{"192.0.2.0/24"}) {
					t.Errorf("members = %v; want only the global network set", got)
				}
			},
		},
		{
			name: "global policy rule selector spans namespaces and network sets",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("role", "db")), wep("ns2", "b", "10.0.0.2", lbl("role", "db")),
					netset("ns2", "n", lbl("role", "db"), "198.51.100.7"), gnp("p", "all()", nil, allowFrom("role == 'db'"))))
			},
			check: func(t *testing.T, m *model) {
				want := []string{"10.0.0.1/32", "10.0.0.2/32", "198.51.100.7/32"}
				if got := firstRuleSet(t, m, dflt("", "p"), true); !slices.Equal(got, want) {
					t.Errorf("members = %v; want %v", got, want)
				}
			},
		},
		{
			name: "serviceAccounts names and selector match the endpoint's service account",
			state: func(t *testing.T) state {
				r := v3.Rule{Action: v3.Allow, Source: v3.EntityRule{ServiceAccounts: &v3.ServiceAccountMatch{Names: []string{"api"}, Selector: "tier == 'web'"}}}
				return merge(base(t), res(t, saProfile("ns1", "api", lbl("tier", "web")), saProfile("ns1", "other", lbl("tier", "web")),
					wep("ns1", "a", "10.0.0.1", nil, withSA("api"), withProfiles("kns.ns1", "ksa.ns1.api")),
					wep("ns1", "b", "10.0.0.2", nil, withSA("other"), withProfiles("kns.ns1", "ksa.ns1.other")),
					np("ns1", "p", "", nil, r)))
			},
			check: func(t *testing.T, m *model) {
				if got := firstRuleSet(t, m, dflt("ns1", "p"), true); !slices.Equal(got, []string{"10.0.0.1/32"}) {
					t.Errorf("members = %v; want the api service account's endpoint", got)
				}
			},
		},
		{
			name: "named ports become IP,proto:port members and ports stay ORed with numbers",
			state: func(t *testing.T) state {
				r := v3.Rule{Action: v3.Allow, Protocol: &tcp, Destination: v3.EntityRule{Selector: "app == 'web'",
					Ports: []numorstring.Port{numorstring.NamedPort("http"), numorstring.SinglePort(443)}}}
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", lbl("app", "web"), withPort("http", "TCP", 8080)),
					wep("ns1", "b", "10.0.0.2", lbl("app", "web"), withPort("http", "UDP", 8080)),
					np("ns1", "p", "all()", nil, r)))
			},
			check: func(t *testing.T, m *model) {
				r := m.policies[dflt("ns1", "p")].InboundRules[0]
				if len(r.DstNamedPortIPSetIDs) != 1 || !slices.Equal(r.DstPorts, []PortRange{{443, 443}}) || *r.Protocol != 6 {
					t.Fatalf("rule = %+v", r)
				}
				set := m.sets[r.DstNamedPortIPSetIDs[0]]
				if len(set) != 1 || !set["10.0.0.1,tcp:8080"] || m.setTypes[r.DstNamedPortIPSetIDs[0]] != IPSetNetPorts {
					t.Errorf("named port set = %v; want only the TCP port of a", set)
				}
			},
		},
		{
			name: "tiers by order with default action; policies by order then name, no order last",
			state: func(t *testing.T) state {
				sec := gnp("security.z", "all()", fptr(1), allowFrom(""))
				sec.Spec.Tier = "security"
				return merge(base(t), res(t, tier("security", 10, v3.Pass), sec, wep("ns1", "a", "10.0.0.1", nil),
					gnp("c", "all()", nil, allowFrom("")), gnp("b", "all()", fptr(5), allowFrom("")), gnp("a", "all()", fptr(5), allowFrom(""))))
			},
			check: func(t *testing.T, m *model) {
				w := m.weps[wepID("ns1", "a")]
				want := []string{"security:security.z", "default:a", "default:b", "default:c"}
				if got := ingressIDs(w.Tiers); !slices.Equal(got, want) {
					t.Errorf("order = %v; want %v", got, want)
				}
				if w.Tiers[0].DefaultAction != v3.Pass || w.Tiers[1].DefaultAction != v3.Deny {
					t.Errorf("default actions = %v, %v", w.Tiers[0].DefaultAction, w.Tiers[1].DefaultAction)
				}
			},
		},
		{
			name: "policy in a missing tier applies last and denies by default",
			state: func(t *testing.T) state {
				p := gnp("ghost.p", "all()", nil, allowFrom(""))
				p.Spec.Tier = "ghost"
				return merge(base(t), res(t, p, gnp("d", "all()", nil, allowFrom("")), wep("ns1", "a", "10.0.0.1", nil)))
			},
			check: func(t *testing.T, m *model) {
				w := m.weps[wepID("ns1", "a")]
				if len(w.Tiers) != 2 || w.Tiers[1].Name != "ghost" || w.Tiers[1].DefaultAction != v3.Deny {
					t.Errorf("tiers = %+v", w.Tiers)
				}
			},
		},
		{
			name: "staged policies are never active",
			state: func(t *testing.T) state {
				s := v3.NewStagedGlobalNetworkPolicy()
				s.Name, s.Spec.Selector, s.Spec.Ingress = "s", "all()", []v3.Rule{{Action: v3.Deny}}
				return merge(base(t), res(t, s, wep("ns1", "a", "10.0.0.1", nil)))
			},
			check: func(t *testing.T, m *model) {
				if len(m.policies) != 0 || len(m.weps[wepID("ns1", "a")].Tiers) != 0 {
					t.Errorf("policies = %v", mapByString(m.policies))
				}
			},
		},
		{
			name: "missing profile becomes a deny-all stand-in",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "a", "10.0.0.1", nil, withProfiles("kns.ns1", "nope"))))
			},
			check: func(t *testing.T, m *model) {
				p := m.profiles["nope"]
				if p == nil || !p.Missing || p.InboundRules[0].Action != v3.Deny || p.OutboundRules[0].Action != v3.Deny {
					t.Errorf("profile nope = %+v", p)
				}
			},
		},
		{
			name: "policy selecting only remote endpoints is not active",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, wep("ns1", "r", "10.0.1.1", lbl("app", "r"), onNode("node-b")),
					wep("ns1", "a", "10.0.0.1", nil), gnp("p", "app == 'r'", nil, allowFrom("app == 'r'"))))
			},
			check: func(t *testing.T, m *model) {
				if len(m.policies) != 0 || len(m.sets) != 0 || len(m.weps) != 1 {
					t.Errorf("policies = %v, sets = %v, weps = %d", mapByString(m.policies), m.sets, len(m.weps))
				}
			},
		},
		{
			name: "own labels override inherited ones; earlier profile wins",
			state: func(t *testing.T) state {
				p1, p2 := v3.NewProfile(), v3.NewProfile()
				p1.Name, p1.Spec.LabelsToApply = "p1", lbl("env", "one", "zone", "z1")
				p2.Name, p2.Spec.LabelsToApply = "p2", lbl("env", "two", "rack", "r2")
				return merge(base(t), res(t, p1, p2, wep("ns1", "a", "10.0.0.1", lbl("zone", "own"), withProfiles("p1", "p2"))))
			},
			check: func(t *testing.T, m *model) {
				l := m.weps[wepID("ns1", "a")].Labels
				if l["env"] != "one" || l["zone"] != "own" || l["rack"] != "r2" {
					t.Errorf("labels = %v", l)
				}
			},
		},
		{
			name: "host endpoint policies split into normal, untracked, preDNAT and forward tiers",
			state: func(t *testing.T) state {
				untracked := gnp("untracked", "has(host)", nil, allowFrom(""))
				untracked.Spec.DoNotTrack, untracked.Spec.ApplyOnForward = true, true
				pre := gnp("pre", "has(host)", nil, allowFrom(""))
				pre.Spec.PreDNAT, pre.Spec.ApplyOnForward = true, true
				fwd := gnp("fwd", "has(host)", nil, allowFrom(""))
				fwd.Spec.ApplyOnForward = true
				return merge(base(t), res(t, untracked, pre, fwd, gnp("normal", "has(host)", nil, allowFrom("")),
					hep("h1", thisNode, "*", lbl("host", "a"), "198.18.0.1")))
			},
			check: func(t *testing.T, m *model) {
				h := m.heps["h1"]
				if h == nil || h.InterfaceName != "*" || !slices.Equal(h.ExpectedIPv4s, []string{"198.18.0.1"}) {
					t.Fatalf("host endpoint = %+v", h)
				}
				for name, c := range map[string]struct {
					tiers []TierInfo
					want  []string
				}{
					"tiers": {h.Tiers, []string{"default:fwd", "default:normal"}}, "untracked": {h.UntrackedTiers, []string{"default:untracked"}},
					"preDNAT": {h.PreDNATTiers, []string{"default:pre"}}, "forward": {h.ForwardTiers, []string{"default:fwd"}},
				} {
					if got := ingressIDs(c.tiers); !slices.Equal(got, c.want) {
						t.Errorf("%s = %v; want %v", name, got, c.want)
					}
				}
			},
		},
		{
			name: "routes for local and remote blocks carry node IP, subnet and pool; VTEPs per node",
			state: func(t *testing.T) state {
				return merge(base(t), res(t, pool("p", "10.244.0.0/16", true, v3.VXLANModeCrossSubnet),
					block("10.244.1.0/26", thisNode), block("10.244.2.0/26", "node-b"), block("10.244.3.0/26", "node-c"),
					node(thisNode, "198.18.0.1/24", "10.244.1.0", "66:00:00:00:00:01"),
					node("node-b", "198.18.0.2/24", "10.244.2.0", "66:00:00:00:00:02"),
					node("node-c", "198.19.0.3/24", "", "")))
			},
			check: func(t *testing.T, m *model) {
				local, b, c := m.routes["10.244.1.0/26"], m.routes["10.244.2.0/26"], m.routes["10.244.3.0/26"]
				if local.Type != RouteLocalBlock || b.Type != RouteRemoteBlock || b.NodeIP != "198.18.0.2" || !b.SameSubnet || c.SameSubnet {
					t.Errorf("routes = %+v %+v %+v", local, b, c)
				}
				if b.Pool == nil || !b.Pool.NATOutgoing || b.Pool.VXLANMode != v3.VXLANModeCrossSubnet {
					t.Errorf("pool = %+v", b.Pool)
				}
				if len(m.vteps) != 2 || m.vteps["node-b"].ParentIPv4 != "198.18.0.2" || m.vteps["node-b"].MAC != "66:00:00:00:00:02" {
					t.Errorf("vteps = %+v", m.vteps)
				}
				if !m.pools["p"].NATOutgoing {
					t.Errorf("pools = %+v", m.pools)
				}
			},
		},
		{
			name: "node FelixConfiguration overrides the default one field by field",
			state: func(t *testing.T) state {
				d, n := v3.NewFelixConfiguration(), v3.NewFelixConfiguration()
				d.Name, n.Name = "default", "node."+thisNode
				vni, mtu := 4096, 1400
				d.Spec.VXLANVNI = &vni
				d.Spec.DefaultEndpointToHostAction = "Drop"
				n.Spec.DefaultEndpointToHostAction = "Accept"
				_ = mtu
				return merge(base(t), res(t, d, n))
			},
			check: func(t *testing.T, m *model) {
				if m.config == nil || m.config.VXLANVNI == nil || *m.config.VXLANVNI != 4096 || m.config.DefaultEndpointToHostAction != "Accept" {
					t.Errorf("config = %+v", m.config)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			h := newHarness(t, thisNode)
			h.to(c.state(t))
			if !h.m.inSync {
				t.Error("no InSync sent")
			}
			c.check(t, h.m)
		})
	}
}
