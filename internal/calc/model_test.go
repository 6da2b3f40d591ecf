package calc

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// state is a datastore state: key → resource JSON.
type state map[datastore.Key][]byte

// res encodes resources into a state.
func res(t testing.TB, objs ...v3.Resource) state {
	t.Helper()
	s := state{}
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		s[datastore.Key{Kind: o.GetObjectKind().GroupVersionKind().Kind, Namespace: o.GetNamespace(), Name: o.GetName()}] = b
	}
	return s
}

// diff returns the updates that turn state a into state b (sorted by key).
func diff(a, b state) []datastore.Update {
	var ups []datastore.Update
	for _, k := range sortedStateKeys(b) {
		if old, ok := a[k]; !ok {
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: b[k]}, UpdateType: datastore.UpdateTypeNew})
		} else if string(old) != string(b[k]) {
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: b[k]}, UpdateType: datastore.UpdateTypeUpdated})
		}
	}
	for _, k := range sortedStateKeys(a) {
		if _, ok := b[k]; !ok {
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k}, UpdateType: datastore.UpdateTypeDeleted})
		}
	}
	return ups
}

func sortedStateKeys(s state) []datastore.Key {
	keys := slices.Collect(maps.Keys(s))
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// model is a simple dataplane: it applies updates and checks the ordering
// guarantees (sets exist before rules use them and outlive them; profiles
// and policies exist before endpoints use them and outlive them; each key
// at most once per batch).
type model struct {
	t        testing.TB
	sets     map[string]map[string]bool
	setTypes map[string]IPSetType
	policies map[PolicyID]*Policy
	profiles map[string]*Profile
	weps     map[WorkloadEndpointID]*WorkloadEndpoint
	heps     map[string]*HostEndpoint
	routes   map[string]Route
	pools    map[string]Pool
	vteps    map[string]VTEP
	config   *v3.FelixConfigurationSpec
	inSync   bool
}

func newModel(t testing.TB) *model {
	return &model{t: t, sets: map[string]map[string]bool{}, setTypes: map[string]IPSetType{},
		policies: map[PolicyID]*Policy{}, profiles: map[string]*Profile{},
		weps: map[WorkloadEndpointID]*WorkloadEndpoint{}, heps: map[string]*HostEndpoint{},
		routes: map[string]Route{}, pools: map[string]Pool{}, vteps: map[string]VTEP{}}
}

func (m *model) rulesOK(what string, rules ...[]Rule) {
	m.t.Helper()
	for _, rs := range rules {
		for _, r := range rs {
			for _, id := range r.IPSetIDs() {
				if m.sets[id] == nil {
					m.t.Errorf("%s refers to IP set %s before it was sent", what, id)
				}
			}
		}
	}
}

func (m *model) setInUse(id string) bool {
	for _, p := range m.policies {
		for _, rs := range [][]Rule{p.InboundRules, p.OutboundRules} {
			for _, r := range rs {
				if slices.Contains(r.IPSetIDs(), id) {
					return true
				}
			}
		}
	}
	for _, p := range m.profiles {
		for _, rs := range [][]Rule{p.InboundRules, p.OutboundRules} {
			for _, r := range rs {
				if slices.Contains(r.IPSetIDs(), id) {
					return true
				}
			}
		}
	}
	return false
}

func (m *model) tiersOK(what string, tiers ...[]TierInfo) {
	m.t.Helper()
	for _, ts := range tiers {
		for _, ti := range ts {
			for _, id := range append(slices.Clone(ti.IngressPolicies), ti.EgressPolicies...) {
				if m.policies[id] == nil {
					m.t.Errorf("%s refers to policy %v before it was sent", what, id)
				}
			}
		}
	}
}

func (m *model) policyInUse(id PolicyID) bool {
	for _, w := range m.weps {
		for _, ti := range w.Tiers {
			if slices.Contains(ti.IngressPolicies, id) || slices.Contains(ti.EgressPolicies, id) {
				return true
			}
		}
	}
	for _, h := range m.heps {
		for _, ts := range [][]TierInfo{h.Tiers, h.UntrackedTiers, h.PreDNATTiers, h.ForwardTiers} {
			for _, ti := range ts {
				if slices.Contains(ti.IngressPolicies, id) || slices.Contains(ti.EgressPolicies, id) {
					return true
				}
			}
		}
	}
	return false
}

func (m *model) apply(batch []Update) {
	m.t.Helper()
	seen := map[string]bool{}
	for _, u := range batch {
		if seen[u.Key()] {
			m.t.Errorf("key %s appears twice in one batch", u.Key())
		}
		seen[u.Key()] = true
		switch u := u.(type) {
		case IPSetUpdate:
			s := map[string]bool{}
			for _, x := range u.Members {
				s[x] = true
			}
			m.sets[u.ID], m.setTypes[u.ID] = s, u.Type
		case IPSetDelta:
			s := m.sets[u.ID]
			if s == nil {
				m.t.Errorf("delta for unknown IP set %s", u.ID)
				continue
			}
			for _, x := range u.Removed {
				if !s[x] {
					m.t.Errorf("IP set %s: removing absent member %s", u.ID, x)
				}
				delete(s, x)
			}
			for _, x := range u.Added {
				if s[x] {
					m.t.Errorf("IP set %s: adding present member %s", u.ID, x)
				}
				s[x] = true
			}
		case IPSetRemove:
			if m.sets[u.ID] == nil {
				m.t.Errorf("remove of unknown IP set %s", u.ID)
			}
			if m.setInUse(u.ID) {
				m.t.Errorf("IP set %s removed while a rule still uses it", u.ID)
			}
			delete(m.sets, u.ID)
			delete(m.setTypes, u.ID)
		case ActivePolicyUpdate:
			m.rulesOK(fmt.Sprintf("policy %v", u.ID), u.Policy.InboundRules, u.Policy.OutboundRules)
			m.policies[u.ID] = u.Policy
		case ActivePolicyRemove:
			if m.policies[u.ID] == nil {
				m.t.Errorf("remove of unknown policy %v", u.ID)
			}
			delete(m.policies, u.ID)
			if m.policyInUse(u.ID) {
				m.t.Errorf("policy %v removed while an endpoint still uses it", u.ID)
			}
		case ActiveProfileUpdate:
			m.rulesOK("profile "+u.Name, u.Profile.InboundRules, u.Profile.OutboundRules)
			m.profiles[u.Name] = u.Profile
		case ActiveProfileRemove:
			if m.profiles[u.Name] == nil {
				m.t.Errorf("remove of unknown profile %s", u.Name)
			}
			delete(m.profiles, u.Name)
		case WorkloadEndpointUpdate:
			m.tiersOK(fmt.Sprintf("endpoint %v", u.ID), u.Endpoint.Tiers)
			for _, p := range u.Endpoint.Profiles {
				if m.profiles[p] == nil {
					m.t.Errorf("endpoint %v uses profile %s before it was sent", u.ID, p)
				}
			}
			m.weps[u.ID] = u.Endpoint
		case WorkloadEndpointRemove:
			if m.weps[u.ID] == nil {
				m.t.Errorf("remove of unknown endpoint %v", u.ID)
			}
			delete(m.weps, u.ID)
		case HostEndpointUpdate:
			e := u.Endpoint
			m.tiersOK("host endpoint "+u.Name, e.Tiers, e.UntrackedTiers, e.PreDNATTiers, e.ForwardTiers)
			m.heps[u.Name] = e
		case HostEndpointRemove:
			if m.heps[u.Name] == nil {
				m.t.Errorf("remove of unknown host endpoint %s", u.Name)
			}
			delete(m.heps, u.Name)
		case RouteUpdate:
			m.routes[u.Route.Dst] = u.Route
		case RouteRemove:
			delete(m.routes, u.Dst)
		case IPPoolUpdate:
			m.pools[u.Name] = u.Pool
		case IPPoolRemove:
			delete(m.pools, u.Name)
		case VTEPUpdate:
			m.vteps[u.VTEP.Node] = u.VTEP
		case VTEPRemove:
			delete(m.vteps, u.Node)
		case ConfigUpdate:
			m.config = u.Config
		case InSync:
			m.inSync = true
		default:
			m.t.Errorf("unknown update %T", u)
		}
	}
}

// dump renders the model for comparison.
func (m *model) dump() string {
	b, err := json.MarshalIndent(map[string]any{
		"sets": m.sets, "policies": mapByString(m.policies), "profiles": m.profiles,
		"weps": mapByString(m.weps), "heps": m.heps, "routes": m.routes, "pools": m.pools,
		"vteps": m.vteps, "config": m.config,
	}, "", " ")
	if err != nil {
		m.t.Fatal(err)
	}
	return string(b)
}

func mapByString[K comparable, V any](in map[K]V) map[string]V {
	out := make(map[string]V, len(in))
	for k, v := range in {
		out[fmt.Sprint(k)] = v
	}
	return out
}

// harness feeds states to a graph and applies its output to a model.
type harness struct {
	t    testing.TB
	g    *Graph
	m    *model
	prev state
}

func newHarness(t testing.TB, node string) *harness {
	g := New(Config{NodeName: node})
	g.OnStatusUpdated(datastore.InSync)
	return &harness{t: t, g: g, m: newModel(t), prev: state{}}
}

// to moves the datastore to state s in one batch and flushes.
func (h *harness) to(s state) {
	h.t.Helper()
	h.g.OnUpdates(diff(h.prev, s))
	h.m.apply(h.g.Flush())
	h.prev = s
}
