package calc

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// randomState draws a datastore state from a small universe, so that
// successive states share, change and drop resources.
func randomState(t testing.TB, r *rand.Rand) state {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	maybe := func() bool { return r.IntN(2) == 0 }
	tcp := numorstring.ProtocolFromString("TCP")
	var objs []v3.Resource
	for _, ns := range []string{"ns1", "ns2", "ns3"} {
		if r.IntN(4) > 0 {
			objs = append(objs, nsProfile(ns, lbl("team", pick("blue", "red"))))
		}
	}
	if maybe() {
		objs = append(objs, saProfile("ns1", "api", lbl("tier", pick("web", "db"))))
	}
	for i := range 8 {
		if r.IntN(5) == 0 {
			continue
		}
		ns := pick("ns1", "ns2", "ns3")
		opts := []wepOpt{onNode(pick(thisNode, thisNode, "node-b"))}
		if maybe() {
			opts = append(opts, withPort("http", pick("TCP", "UDP"), uint16(8000+r.IntN(3))))
		}
		if maybe() {
			opts = append(opts, withSA("api"), withProfiles("kns."+ns, "ksa."+ns+".api", pick("", "missing")))
		}
		objs = append(objs, wep(ns, fmt.Sprintf("w%d", i), fmt.Sprintf("10.0.%d.%d", r.IntN(2), i+1),
			lbl("app", pick("a", "b", "c"), "role", pick("db", "web")), opts...))
	}
	for i := range 3 {
		if maybe() {
			objs = append(objs, netset(pick("", "ns1", "ns2"), fmt.Sprintf("s%d", i), lbl("role", pick("db", "ext")),
				pick("192.0.2.0/24", "198.51.100.0/25", "10.0.0.1")))
		}
	}
	if maybe() {
		objs = append(objs, hep("h1", pick(thisNode, "node-b"), pick("eth0", "*"), lbl("host", "yes", "role", "web"), "198.18.0.1"))
	}
	if maybe() {
		objs = append(objs, tier("security", float64(r.IntN(3)*10), v3.Action(pick("Pass", "Deny"))))
	}
	if maybe() {
		objs = append(objs, tier("default", 1_000_000, v3.Deny))
	}
	sels := []string{"app == 'a'", "role == 'db'", "all()", "has(host)", "app in {'b', 'c'}", ""}
	for i := range 6 {
		if r.IntN(3) == 0 {
			continue
		}
		rule := v3.Rule{Action: v3.Action(pick("Allow", "Deny", "Pass", "Log")),
			Source: v3.EntityRule{Selector: pick(sels...), NotNets: nil}}
		switch r.IntN(5) {
		case 0:
			rule.Source.NamespaceSelector = pick("team == 'blue'", "all()", "global()")
		case 1:
			rule.Protocol = &tcp
			rule.Destination.Ports = []numorstring.Port{numorstring.NamedPort("http"), numorstring.SinglePort(80)}
		case 2:
			rule.Source.ServiceAccounts = &v3.ServiceAccountMatch{Names: []string{"api"}, Selector: pick("", "tier == 'web'")}
		case 3:
			rule.Source.NotSelector = pick(sels...)
			rule.Destination.Nets = []string{"10.0.0.0/8"}
		}
		var order *float64
		if maybe() {
			order = fptr(float64(r.IntN(3)))
		}
		name := fmt.Sprintf("p%d", i)
		if r.IntN(2) == 0 {
			p := gnp(name, pick(sels...), order, rule)
			if maybe() {
				p.Spec.Tier, p.Name = "security", "security."+name
			}
			if r.IntN(4) == 0 {
				p.Spec.ApplyOnForward = true
				p.Spec.PreDNAT = maybe()
				p.Spec.DoNotTrack = !p.Spec.PreDNAT
			}
			objs = append(objs, p)
		} else {
			p := np(pick("ns1", "ns2"), name, pick(sels...), order, rule)
			if maybe() {
				p.Spec.Egress = []v3.Rule{allowFrom(pick(sels...))}
				p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress, v3.PolicyTypeEgress}
			}
			objs = append(objs, p)
		}
	}
	if maybe() {
		objs = append(objs, pool("p", "10.244.0.0/16", maybe(), v3.VXLANModeAlways))
	}
	for i, n := range []string{thisNode, "node-b"} {
		if maybe() {
			objs = append(objs, block(fmt.Sprintf("10.244.%d.0/26", r.IntN(3)), n))
		}
		if maybe() {
			objs = append(objs, node(n, fmt.Sprintf("198.18.0.%d/24", i+1+r.IntN(2)), fmt.Sprintf("10.244.%d.0", i), "66:00:00:00:00:0"+fmt.Sprint(i)))
		}
	}
	if maybe() {
		c := v3.NewFelixConfiguration()
		c.Name = pick("default", "node."+thisNode)
		c.Spec.DefaultEndpointToHostAction = pick("Drop", "Accept")
		objs = append(objs, c)
	}
	return res(t, objs...)
}

// squashed feeds one state as a snapshot to a fresh graph, the way the
// syncer delivers a first sync.
func squashed(t *testing.T, s state) *model {
	g := New(Config{NodeName: thisNode})
	m := newModel(t)
	g.OnStatusUpdated(datastore.ResyncInProgress)
	g.OnUpdates(diff(state{}, s))
	g.OnStatusUpdated(datastore.InSync)
	m.apply(g.Flush())
	return m
}

func TestGraph_SequencesConvergeWhateverTheDeliveryOrder(t *testing.T) {
	for seed := range 40 {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			seq := make([]state, 6)
			for i := range seq {
				seq[i] = randomState(t, r)
			}
			first, last := squashed(t, seq[0]).dump(), squashed(t, seq[len(seq)-1]).dump()

			// (a) as is.
			h := newHarness(t, thisNode)
			for _, s := range seq {
				h.to(s)
			}
			if got := h.m.dump(); got != last {
				t.Fatalf("as-is run differs from squashed final state:\n%s\nwant\n%s", got, last)
			}
			// (b) reversed.
			h = newHarness(t, thisNode)
			for i := len(seq) - 1; i >= 0; i-- {
				h.to(seq[i])
			}
			if got := h.m.dump(); got != first {
				t.Fatalf("reversed run differs from squashed first state:\n%s\nwant\n%s", got, first)
			}
			// (c) each transition shuffled and split into random chunks,
			// with a flush (an intermediate state) after every chunk.
			h = newHarness(t, thisNode)
			for _, s := range seq {
				ups := diff(h.prev, s)
				r.Shuffle(len(ups), func(i, j int) { ups[i], ups[j] = ups[j], ups[i] })
				for len(ups) > 0 {
					n := 1 + r.IntN(len(ups))
					h.g.OnUpdates(ups[:n])
					h.m.apply(h.g.Flush())
					ups = ups[n:]
				}
				h.prev = s
			}
			if got := h.m.dump(); got != last {
				t.Fatalf("chunked run differs from squashed final state:\n%s\nwant\n%s", got, last)
			}
			// Removing everything returns every count to zero.
			h.to(state{})
			if st := h.g.Stats(); st != (Stats{}) {
				t.Errorf("stats after removing all input = %+v; want all zero", st)
			}
			if got, want := h.m.dump(), squashed(t, state{}).dump(); got != want {
				t.Errorf("dataplane after removing all input is not empty:\n%s", got)
			}
		})
	}
}
