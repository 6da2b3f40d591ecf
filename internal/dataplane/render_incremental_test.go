package dataplane

import (
	"fmt"
	"math/rand"
	"net/netip"
	"sort"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// TestRender_IncrementalMatchesFull feeds random batches of calc updates
// (IP sets and deltas — some turning a set into an interval set — policies,
// profiles, workloads, host endpoints by name, "*" and expectedIPs, host
// interface changes, pools, configuration) to one manager, rendering after
// every batch, and compares each render with a fresh manager's render of
// all the updates so far: the patched table must equal the rebuilt one,
// and the table it keeps in (fake) nftables, synced comparing only what
// changed, must equal a fresh manager's first sync.
func TestRender_IncrementalMatchesFull(t *testing.T) {
	for seed := int64(1); seed <= 25; seed++ {
		rng := rand.New(rand.NewSource(seed))
		g := &updateGen{rng: rng, sets: map[string]bool{"s:a": true, "s:b": true, "s:c": true}}
		inc, incNFT := newFakeManager(t, PolicyConfig{})
		// Rules name sets a, b and c, which exist throughout (calc sends a
		// set before the first rule naming it and removes it after the
		// last); set x comes and goes.
		all := []calc.Update{calc.InSync{}, set("s:a"), set("s:b"), set("s:c")}
		inc.OnUpdates(all)
		var ifaces map[string][]netip.Addr
		for step := 0; step < 80; step++ {
			batch := g.batch()
			all = append(all, batch...)
			inc.OnUpdates(batch)
			if rng.Intn(6) == 0 {
				ifaces = g.hostIfaces()
				inc.SetHostInterfaces(ifaces)
			}
			ref, refNFT := newFakeManager(t, PolicyConfig{})
			ref.SetHostInterfaces(ifaces)
			ref.OnUpdates(all)
			if got, want := dumpTable(inc.Render()), dumpTable(ref.Render()); got != want {
				t.Fatalf("seed %d step %d: incremental render differs from a full render after %v:\n%s",
					seed, step, describe(batch), lineDiff(want, got))
			}
			// And through the Reconciler: the long-lived table, synced
			// with only the changed objects compared, equals a fresh one.
			mustApply(t, inc)
			mustApply(t, ref)
			if got, want := canonicalDump(incNFT.Dump()), canonicalDump(refNFT.Dump()); got != want {
				t.Fatalf("seed %d step %d: table synced incrementally differs from a fresh sync after %v:\n%s",
					seed, step, describe(batch), lineDiff(want, got))
			}
		}
	}
}

// updateGen makes random calc updates over a small fixed universe of
// objects, so that updates, replacements and removals collide often.
type updateGen struct {
	rng  *rand.Rand
	sets map[string]bool // IP sets that exist (deltas need one)
}

var (
	genSets     = []string{"s:a", "s:b", "s:c"}
	genPolicies = []calc.PolicyID{pid("default", "", "p1"), pid("default", "ns1", "p2"), pid("security", "", "p3"), pid("security", "ns1", "p4")}
	genProfiles = []string{"kns.ns1", "kns.ns2"}
	genAddrs    = []string{"10.244.1.1/32", "10.244.1.2/32", "10.244.1.3/32", "fd00::1/128", "10.250.0.0/24"}
)

func (g *updateGen) pick(n int) int { return g.rng.Intn(n) }

func (g *updateGen) batch() []calc.Update {
	out := make([]calc.Update, 1+g.pick(4))
	for i := range out {
		out[i] = g.update()
	}
	return out
}

func (g *updateGen) update() calc.Update {
	switch g.pick(10) {
	case 0, 1:
		id := append(genSets, "s:x")[g.pick(len(genSets)+1)]
		if g.sets[id] && g.pick(2) == 0 {
			return calc.IPSetDelta{ID: id, Added: g.addrs(), Removed: g.addrs()}
		}
		if id == "s:x" && g.pick(3) == 0 {
			delete(g.sets, id)
			return calc.IPSetRemove{ID: id}
		}
		g.sets[id] = true
		return set(id, g.addrs()...)
	case 2, 3:
		id := genPolicies[g.pick(len(genPolicies))]
		if g.pick(5) == 0 {
			return calc.ActivePolicyRemove{ID: id}
		}
		return pol(id, g.rules(), g.rules())
	case 4:
		name := genProfiles[g.pick(len(genProfiles))]
		if g.pick(4) == 0 {
			return calc.ActiveProfileRemove{Name: name}
		}
		return calc.ActiveProfileUpdate{Name: name, Profile: &calc.Profile{InboundRules: g.rules(), OutboundRules: g.rules()}}
	case 5, 6:
		n := g.pick(4)
		if g.pick(5) == 0 {
			return calc.WorkloadEndpointRemove{ID: calc.WorkloadEndpointID{Namespace: "ns1", Name: fmt.Sprint("w", n)}}
		}
		// Interfaces are unique per endpoint, as the CNI plugin names them
		// (two endpoints on one interface would leave the winner undefined
		// in either mode).
		return wl("ns1", fmt.Sprint("w", n), fmt.Sprint("caliw", n), fmt.Sprintf("10.244.1.%d", n+1), g.tiers(), genProfiles[g.pick(len(genProfiles))])
	case 7:
		names := []string{"h-eth0", "h-star", "h-exp"}
		name := names[g.pick(len(names))]
		if g.pick(4) == 0 {
			return calc.HostEndpointRemove{Name: name}
		}
		ep := &calc.HostEndpoint{Tiers: g.tiers(), ForwardTiers: g.tiers(), UntrackedTiers: g.tiers(), PreDNATTiers: g.tiers()}
		switch name {
		case "h-eth0":
			ep.InterfaceName = "eth0"
		case "h-star":
			ep.InterfaceName = "*"
		default:
			ep.ExpectedIPv4s = []string{"198.18.0.1"}
		}
		return calc.HostEndpointUpdate{Name: name, Endpoint: ep}
	case 8:
		if g.pick(3) == 0 {
			return calc.IPPoolRemove{Name: "pool"}
		}
		return calc.IPPoolUpdate{Name: "pool", Pool: calc.Pool{CIDR: "10.244.0.0/16", NATOutgoing: g.pick(2) == 0}}
	default:
		spec := &v3.FelixConfigurationSpec{}
		if g.pick(2) == 0 {
			spec.IPv6Support = new(g.pick(2) == 0)
		}
		if g.pick(2) == 0 {
			spec.DefaultEndpointToHostAction = "Accept"
		}
		return calc.ConfigUpdate{Config: spec}
	}
}

func (g *updateGen) addrs() []string {
	var out []string
	for _, a := range genAddrs {
		if g.pick(3) == 0 {
			out = append(out, a)
		}
	}
	return out
}

func (g *updateGen) rules() []calc.Rule {
	var out []calc.Rule
	for range g.pick(3) {
		r := calc.Rule{Action: []v3.Action{v3.Allow, v3.Deny, v3.Pass, v3.Log}[g.pick(4)]}
		if g.pick(2) == 0 {
			r.SrcIPSetIDs = []string{genSets[g.pick(len(genSets))]}
		}
		if g.pick(2) == 0 {
			r.Protocol = u8(protoTCP)
			r.DstPorts = []calc.PortRange{{Min: 80, Max: 80}}
		}
		out = append(out, r)
	}
	return out
}

func (g *updateGen) tiers() []calc.TierInfo {
	var out []calc.TierInfo
	for _, tier := range []string{"security", "default"} {
		if g.pick(2) == 0 {
			continue
		}
		ti := calc.TierInfo{Name: tier, DefaultAction: []v3.Action{v3.Deny, v3.Pass}[g.pick(2)]}
		for _, id := range genPolicies {
			if id.Tier != tier {
				continue
			}
			if g.pick(2) == 0 {
				ti.IngressPolicies = append(ti.IngressPolicies, id)
			}
			if g.pick(2) == 0 {
				ti.EgressPolicies = append(ti.EgressPolicies, id)
			}
		}
		out = append(out, ti)
	}
	return out
}

func (g *updateGen) hostIfaces() map[string][]netip.Addr {
	addr := netip.MustParseAddr("198.18.0.1")
	return map[string][]netip.Addr{[]string{"eth1", "eth2"}[g.pick(2)]: {addr}, "eth0": {netip.MustParseAddr("198.18.0.9")}}
}

// describe names the updates of a batch for a failure message.
func describe(us []calc.Update) string {
	var keys []string
	for _, u := range us {
		keys = append(keys, fmt.Sprintf("%T %s", u, u.Key()))
	}
	return strings.Join(keys, ", ")
}

// dumpTable renders a desired table as sorted text, one object per line.
func dumpTable(t *nft.Table) string {
	var lines []string
	for name, c := range t.Chains {
		base := ""
		if c.Base != nil {
			base = fmt.Sprintf(" %s/%s/%s", c.Base.Type, c.Base.Hook, c.Base.Priority)
		}
		for i, r := range c.Rules {
			lines = append(lines, fmt.Sprintf("chain %s%s rule %03d %s # %s", name, base, i, r.Text, r.Comment))
		}
		if len(c.Rules) == 0 {
			lines = append(lines, fmt.Sprintf("chain %s%s (empty)", name, base))
		}
	}
	for name, s := range t.Sets {
		lines = append(lines, fmt.Sprintf("set %s %s interval=%v", name, s.Type, s.Interval))
		for e := range s.Elements {
			lines = append(lines, fmt.Sprintf("set %s element %s", name, e))
		}
	}
	for name, m := range t.Maps {
		lines = append(lines, fmt.Sprintf("map %s %s", name, m.Type))
		for k, v := range m.Elements {
			lines = append(lines, fmt.Sprintf("map %s element %s : %s", name, k, v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// canonicalDump orders a knftables fake dump by object, keeping the order
// of each chain's rules (the fake lists objects in creation order).
func canonicalDump(dump string) string {
	lines := strings.Split(strings.TrimSpace(dump), "\n")
	key := func(l string) string {
		if f := strings.Fields(l); len(f) > 4 && f[0] == "add" && f[1] == "rule" {
			return strings.Join(f[:5], " ")
		}
		return l
	}
	sort.SliceStable(lines, func(i, j int) bool { return key(lines[i]) < key(lines[j]) })
	return strings.Join(lines, "\n")
}
