package calc

import (
	"log/slog"
	"reflect"
	"sort"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Config configures a Graph.
type Config struct {
	// NodeName is this node's name: only its endpoints are "local", only
	// its blocks are local blocks.
	NodeName string
	// Log receives warnings about input that cannot be used (bad selectors
	// or CIDRs that validation should have rejected); slog.Default() if nil.
	Log *slog.Logger
}

// Graph is Felix's calculation graph. Feed it syncer output (it implements
// datastore.SyncerCallbacks) and call Flush to get the dataplane updates
// that bring the consumer from the previous flush's state to the current
// one. It is pure: no goroutines, no clock, no kernel; the state a consumer
// reaches by applying every batch depends only on the current input. It is
// not safe for concurrent use.
type Graph struct {
	cfg Config
	log *slog.Logger

	// Labelled items and profiles (label inheritance).
	items map[itemKey]*item
	// labelIndex maps each label value to the items carrying it.
	labelIndex       map[labelReq]map[itemKey]*item
	profiles         map[string]*profileData
	profileItems     map[string]map[itemKey]struct{}
	localProfileRefs map[string]int

	// Policies, tiers and their selector index over local endpoints.
	tiers    map[string]*tierData
	policies map[policyKey]*policyData
	polSels  map[string]*polSel

	// IP sets and their selector index over all items.
	ipsetSels map[string]*ipsetSel
	ipsets    map[string]*ipset

	// References held by active policies and profiles.
	policyRefs  map[policyKey]refState
	profileRefs map[string]refState

	// Routing inputs.
	pools        map[string]*poolData
	blocks       map[string]*blockData
	nodes        map[string]*nodeData
	routingDirty bool

	// Configuration inputs.
	felixConfigs map[string][]byte
	configDirty  bool

	// Work for the next flush.
	activityDirty  map[policyKey]struct{}
	setsChanged    map[policyKey]struct{}
	dirtyPolicies  map[policyKey]struct{}
	dirtyProfiles  map[string]struct{}
	dirtyEndpoints map[itemKey]struct{}
	dirtySets      map[string]struct{}
	removedSets    map[string]struct{}

	// What the consumer has.
	sentPolicies map[policyKey]ActivePolicyUpdate
	sentProfiles map[string]*Profile
	sentWEPs     map[itemKey]*WorkloadEndpoint
	sentHEPs     map[itemKey]*HostEndpoint
	sentPools    map[string]Pool
	sentVTEPs    map[string]VTEP
	sentRoutes   map[string]Route
	sentConfig   []byte
	configSent   bool

	status     datastore.SyncStatus
	inSyncSent bool
}

// New returns an empty graph for the node cfg.NodeName.
func New(cfg Config) *Graph {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return &Graph{
		cfg: cfg, log: log.With("component", "calc", "node", cfg.NodeName),
		items: map[itemKey]*item{}, labelIndex: map[labelReq]map[itemKey]*item{}, profiles: map[string]*profileData{},
		profileItems: map[string]map[itemKey]struct{}{}, localProfileRefs: map[string]int{},
		tiers: map[string]*tierData{}, policies: map[policyKey]*policyData{}, polSels: map[string]*polSel{},
		ipsetSels: map[string]*ipsetSel{}, ipsets: map[string]*ipset{},
		policyRefs: map[policyKey]refState{}, profileRefs: map[string]refState{},
		pools: map[string]*poolData{}, blocks: map[string]*blockData{}, nodes: map[string]*nodeData{},
		felixConfigs:  map[string][]byte{},
		activityDirty: map[policyKey]struct{}{}, setsChanged: map[policyKey]struct{}{},
		dirtyPolicies: map[policyKey]struct{}{}, dirtyProfiles: map[string]struct{}{},
		dirtyEndpoints: map[itemKey]struct{}{}, dirtySets: map[string]struct{}{}, removedSets: map[string]struct{}{},
		sentPolicies: map[policyKey]ActivePolicyUpdate{}, sentProfiles: map[string]*Profile{},
		sentWEPs: map[itemKey]*WorkloadEndpoint{}, sentHEPs: map[itemKey]*HostEndpoint{},
		sentPools: map[string]Pool{}, sentVTEPs: map[string]VTEP{}, sentRoutes: map[string]Route{},
	}
}

// OnStatusUpdated records the syncer's status; the first Flush after
// InSync ends with an InSync update.
func (g *Graph) OnStatusUpdated(status datastore.SyncStatus) {
	g.status = status
	if status == datastore.InSync {
		g.configDirty = true
	}
}

// OnUpdates applies a batch of datastore changes to the graph's state.
// Nothing is emitted until Flush.
func (g *Graph) OnUpdates(updates []datastore.Update) {
	for i := range updates {
		g.apply(&updates[i])
	}
}

// Flush returns the ordered dataplane updates since the last Flush (nil if
// nothing changed). Order within a batch:
//
//	ConfigUpdate
//	IPPoolUpdate, VTEPUpdate, RouteUpdate
//	IPSetUpdate / IPSetDelta          (sets before the rules that use them)
//	ActiveProfileUpdate, ActivePolicyUpdate
//	WorkloadEndpointUpdate/Remove, HostEndpointUpdate/Remove
//	ActivePolicyRemove, ActiveProfileRemove   (after endpoints let go)
//	IPSetRemove                       (after the rules that used them)
//	RouteRemove, VTEPRemove, IPPoolRemove
//	InSync                            (once)
func (g *Graph) Flush() []Update {
	g.resolveActivity()
	var out []Update
	out = append(out, g.configUpdates()...)
	early, late := g.routingUpdates()
	out = append(out, early...)
	out = append(out, g.setUpdates()...)

	// Profiles and policies to send or withdraw.
	var profRemoves, polRemoves []Update
	for _, name := range sortedKeys(g.dirtyProfiles) {
		st, active := g.profileRefs[name]
		if active && st.active {
			p := g.profileOutput(name)
			if old, ok := g.sentProfiles[name]; !ok || !reflect.DeepEqual(old, p) {
				out = append(out, ActiveProfileUpdate{Name: name, Profile: p})
				g.sentProfiles[name] = p
			}
		} else if _, ok := g.sentProfiles[name]; ok {
			profRemoves = append(profRemoves, ActiveProfileRemove{Name: name})
			delete(g.sentProfiles, name)
		}
	}
	for _, key := range sortedPolicyKeys(g.dirtyPolicies) {
		sent, wasSent := g.sentPolicies[key]
		if _, active := g.policyRefs[key]; active {
			pd := g.policies[key]
			u := ActivePolicyUpdate{ID: pd.id(), Policy: pd.out}
			if wasSent && sent.ID != u.ID {
				polRemoves = append(polRemoves, ActivePolicyRemove{ID: sent.ID})
				wasSent = false
			}
			if !wasSent || !reflect.DeepEqual(sent.Policy, u.Policy) {
				out = append(out, u)
				g.sentPolicies[key] = u
			}
		} else if wasSent {
			polRemoves = append(polRemoves, ActivePolicyRemove{ID: sent.ID})
			delete(g.sentPolicies, key)
		}
	}
	out = append(out, g.endpointUpdates()...)
	out = append(out, polRemoves...)
	out = append(out, profRemoves...)
	for _, id := range sortedKeys(g.removedSets) {
		out = append(out, IPSetRemove{ID: id})
	}
	out = append(out, late...)
	clear(g.dirtyPolicies)
	clear(g.dirtyProfiles)
	clear(g.dirtyEndpoints)
	clear(g.removedSets)
	if g.status == datastore.InSync && !g.inSyncSent {
		g.inSyncSent = true
		out = append(out, InSync{})
	}
	return out
}

// setUpdates sends new sets in full and changed sets as deltas.
func (g *Graph) setUpdates() []Update {
	var out []Update
	for _, id := range sortedKeys(g.dirtySets) {
		s := g.ipsets[id]
		if !s.emitted {
			members := make([]string, 0, len(s.members))
			for m := range s.members {
				members = append(members, m)
			}
			sort.Strings(members)
			out = append(out, IPSetUpdate{ID: id, Type: s.typ, Members: members})
			s.emitted, s.pending = true, nil
			continue
		}
		var d IPSetDelta
		d.ID = id
		for m, added := range s.pending {
			if added {
				d.Added = append(d.Added, m)
			} else {
				d.Removed = append(d.Removed, m)
			}
		}
		s.pending = nil
		if len(d.Added)+len(d.Removed) == 0 {
			continue
		}
		sort.Strings(d.Added)
		sort.Strings(d.Removed)
		out = append(out, d)
	}
	clear(g.dirtySets)
	return out
}

// endpointUpdates sends changed local endpoints and withdraws gone ones.
func (g *Graph) endpointUpdates() []Update {
	keys := make([]itemKey, 0, len(g.dirtyEndpoints))
	for k := range g.dirtyEndpoints {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.ns != b.ns {
			return a.ns < b.ns
		}
		return a.name < b.name
	})
	var out, removes []Update
	for _, key := range keys {
		it := g.items[key]
		live := it != nil && it.local
		switch key.kind {
		case kindWEP:
			id := WorkloadEndpointID{Namespace: key.ns, Name: key.name}
			if !live {
				if _, ok := g.sentWEPs[key]; ok {
					removes = append(removes, WorkloadEndpointRemove{ID: id})
					delete(g.sentWEPs, key)
				}
				continue
			}
			ep := g.workloadEndpoint(it)
			if old, ok := g.sentWEPs[key]; !ok || !reflect.DeepEqual(old, ep) {
				out = append(out, WorkloadEndpointUpdate{ID: id, Endpoint: ep})
				g.sentWEPs[key] = ep
			}
		case kindHEP:
			if !live {
				if _, ok := g.sentHEPs[key]; ok {
					removes = append(removes, HostEndpointRemove{Name: key.name})
					delete(g.sentHEPs, key)
				}
				continue
			}
			ep := g.hostEndpoint(it)
			if old, ok := g.sentHEPs[key]; !ok || !reflect.DeepEqual(old, ep) {
				out = append(out, HostEndpointUpdate{Name: key.name, Endpoint: ep})
				g.sentHEPs[key] = ep
			}
		}
	}
	return append(out, removes...)
}

// profileOutput is the dataplane view of an active profile.
func (g *Graph) profileOutput(name string) *Profile {
	if pd := g.profiles[name]; pd != nil {
		return pd.out
	}
	return &Profile{InboundRules: denyAll, OutboundRules: denyAll, Missing: true}
}

func sortedPolicyKeys(m map[policyKey]struct{}) []policyKey {
	keys := make([]policyKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ns != keys[j].ns {
			return keys[i].ns < keys[j].ns
		}
		return keys[i].name < keys[j].name
	})
	return keys
}
