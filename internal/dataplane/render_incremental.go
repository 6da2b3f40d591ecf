package dataplane

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// Rendering is incremental. The desired table is kept between renders and
// patched: a steady-state Render re-renders and re-merges only the objects
// whose calc updates arrived since the last one (stale keys), plus the
// base chains and pool sets, which are small. Rebuilding the whole table —
// ten thousand map insertions at 1,000 endpoints and policies — was most of
// Felix's own time per policy change. A full rebuild still happens first,
// and after a change that every fragment depends on (the configuration).

// renderState is the incremental render bookkeeping.
type renderState struct {
	// table is the last rendered desired table; merged what each fragment
	// key put into it.
	table  *nft.Table
	merged map[string]*merged
	// stale are the keys changed since the last Render; full forces a
	// rebuild.
	stale map[string]bool
	full  bool
	// used are the policy directions some endpoint uses, as of the last
	// Render; usedStale says an endpoint changed since.
	used      map[direction]bool
	usedStale bool
	// base names the chains and sets renderBase and renderNAT made last
	// time; changes what renders changed since the last Sync (nil after a
	// full render: compare everything).
	base    *nft.Changes
	changes *nft.Changes
}

// direction is one direction of a policy: only the directions some
// endpoint uses get a chain (an ingress-only policy has no egress chain).
type direction struct {
	id      calc.PolicyID
	inbound bool
}

// invalidate drops the cached fragment of key and marks it for re-render.
func (m *PolicyManager) invalidate(key string) {
	delete(m.cache, key)
	m.render.stale[key] = true
}

// invalidatePrefix invalidates every fragment whose key has one of the
// prefixes.
func (m *PolicyManager) invalidatePrefix(prefixes ...string) {
	for k := range m.render.merged {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				m.invalidate(k)
			}
		}
	}
	for k := range m.cache {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				delete(m.cache, k)
			}
		}
	}
}

// invalidateAll drops every fragment and makes the next Render rebuild.
func (m *PolicyManager) invalidateAll() {
	clear(m.cache)
	m.render.full = true
}

// Render returns the desired table for the recorded state (exported for
// tests and diagnostics). The table belongs to the manager and is patched
// by the next Render: callers must not modify or keep it.
func (m *PolicyManager) Render() *nft.Table {
	resolved, wildcard := m.resolveHosts()
	m.wildcardHost = wildcard
	for name := range m.hosts {
		if !slices.Equal(resolved[name], m.hostRendered[name]) {
			m.invalidate("hep/" + name) // its interfaces changed (expectedIPs, a competing endpoint)
		}
	}
	if m.render.table == nil || m.render.full {
		m.renderAll(resolved)
	} else {
		m.renderChanged(resolved)
	}
	m.hostRendered = resolved
	m.render.table.Changed = m.render.changes
	return m.render.table
}

// synced is called after each Sync of the rendered table: the next
// render's changes are counted from here. (After a failed Sync the
// Reconciler compares everything anyway.)
func (m *PolicyManager) synced() {
	m.render.changes = nft.NewChanges()
}

// renderBaseInto renders the base chains, dispatch maps and pool sets into
// t, replacing the previous ones, and notes their names as changed.
func (m *PolicyManager) renderBaseInto(t *nft.Table) {
	scratch := nft.NewTable()
	m.renderBase(scratch)
	m.renderNAT(scratch)
	cur := nft.NewChanges()
	for name, c := range scratch.Chains {
		t.Chains[name] = c
		cur.Chains[name] = true
	}
	for name, s := range scratch.Sets {
		t.Sets[name] = s
		cur.Sets[name] = true
	}
	for name, mp := range scratch.Maps {
		if t.Maps[name] == nil { // kept between renders: fragments own the elements
			t.Maps[name] = mp
		}
	}
	if prev, ch := m.render.base, m.render.changes; prev != nil && ch != nil {
		for name := range prev.Chains {
			if !cur.Chains[name] {
				delete(t.Chains, name)
			}
			ch.Chains[name] = true
		}
		for name := range prev.Sets {
			if !cur.Sets[name] {
				delete(t.Sets, name)
			}
			ch.Sets[name] = true
		}
	}
	m.render.base = cur
	if ch := m.render.changes; ch != nil {
		maps.Copy(ch.Chains, cur.Chains)
		maps.Copy(ch.Sets, cur.Sets)
	}
}

// noteChanged adds what a fragment merged or removed to the changes.
func (m *PolicyManager) noteChanged(mg *merged) {
	ch := m.render.changes
	if ch == nil || mg == nil {
		return
	}
	for _, c := range mg.chains {
		ch.Chains[c.Name] = true
	}
	for _, s := range mg.sets {
		ch.Sets[s.Name] = true
	}
	for _, e := range mg.mapElems {
		ch.Maps[e.m] = true
	}
}

// renderAll builds the table from scratch (from cached fragments where
// they are still valid).
func (m *PolicyManager) renderAll(resolved map[string][]string) {
	rs := &m.render
	t := nft.NewTable()
	// Sized like the last render: growing maps of thousands of chains
	// was a third of a full Render.
	if rs.table != nil {
		t.Chains = make(map[string]*nft.Chain, len(rs.table.Chains))
		t.Sets = make(map[string]*nft.Set, len(rs.table.Sets))
	}
	rs.table, rs.merged, rs.full = t, make(map[string]*merged, len(rs.merged)), false
	clear(rs.stale)
	rs.changes, rs.base = nil, nil // the next Sync compares everything
	m.renderBaseInto(t)
	rs.used, rs.usedStale = m.usedDirections(), false
	for id := range m.ipsets {
		m.renderKey(t, "ipset/"+id, resolved)
	}
	for key := range m.policyKeys {
		m.renderKey(t, key, resolved)
	}
	for name := range m.profiles {
		m.renderKey(t, "profile/"+name, resolved)
	}
	for key := range m.wepKeys {
		m.renderKey(t, key, resolved)
	}
	for name := range m.hosts {
		m.renderKey(t, "hep/"+name, resolved)
	}
}

// renderChanged patches the table: base chains and pool sets anew, then
// every stale fragment out and back in.
func (m *PolicyManager) renderChanged(resolved map[string][]string) {
	rs := &m.render
	t := rs.table
	m.renderBaseInto(t)
	if rs.usedStale {
		// An endpoint changed: re-merge the policies whose directions in
		// use changed with it.
		used := m.usedDirections()
		for key, id := range m.policyKeys {
			for _, in := range []bool{true, false} {
				if used[direction{id, in}] != rs.used[direction{id, in}] {
					rs.stale[key] = true
				}
			}
		}
		rs.used, rs.usedStale = used, false
	}
	keys := make([]string, 0, len(rs.stale))
	for k := range rs.stale {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if mg := rs.merged[k]; mg != nil {
			mg.removeFrom(t)
			m.noteChanged(mg)
			delete(rs.merged, k)
		}
	}
	for _, k := range keys {
		m.renderKey(t, k, resolved)
	}
	clear(rs.stale)
}

// renderKey merges the fragment of one object key (rendering it on a cache
// miss); a key whose object is gone, or that names no fragment (pools,
// config), adds nothing.
func (m *PolicyManager) renderKey(t *nft.Table, key string, resolved map[string][]string) {
	kind, rest, _ := strings.Cut(key, "/")
	var fn func(*nft.Table)
	var keep func(string) bool
	switch kind {
	case "ipset":
		s := m.ipsets[rest]
		if s == nil {
			return
		}
		fn = func(t *nft.Table) { renderIPSet(t, rest, s, m.families()) }
	case "policy":
		id, ok := m.policyKeys[key]
		if !ok {
			return
		}
		p := m.policies[id]
		in, out := m.render.used[direction{id, true}], m.render.used[direction{id, false}]
		// A policy's fragment holds its pi- (inbound) and po- (outbound)
		// chain (policyChain).
		keep = func(name string) bool {
			return in && strings.HasPrefix(name, "pi-") || out && strings.HasPrefix(name, "po-")
		}
		fn = func(t *nft.Table) { m.renderPolicyChains(t, id, p) }
	case "profile":
		p := m.profiles[rest]
		if p == nil {
			return
		}
		fn = func(t *nft.Table) { m.renderProfileChains(t, rest, p) }
	case "wep":
		id, ok := m.wepKeys[key]
		if !ok {
			return
		}
		ep := m.workloads[id]
		fn = func(t *nft.Table) { m.renderWorkload(t, id, ep) }
	case "hep":
		ep := m.hosts[rest]
		if ep == nil {
			return
		}
		ifaces := resolved[rest]
		fn = func(t *nft.Table) { m.renderHost(t, rest, ifaces, ep) }
	default:
		return
	}
	mg := m.cached(key, fn).mergeInto(t, keep)
	m.render.merged[key] = mg
	m.noteChanged(mg)
}

// usedDirections lists the policy directions some endpoint uses.
func (m *PolicyManager) usedDirections() map[direction]bool {
	used := map[direction]bool{}
	use := func(tiers []calc.TierInfo) {
		for _, tier := range tiers {
			for _, id := range tier.IngressPolicies {
				used[direction{id, true}] = true
			}
			for _, id := range tier.EgressPolicies {
				used[direction{id, false}] = true
			}
		}
	}
	for _, ep := range m.workloads {
		use(ep.Tiers)
	}
	for _, ep := range m.hosts {
		use(ep.Tiers)
		use(ep.ForwardTiers)
		if ep.InterfaceName != wildcardIface { // the wildcard has no untracked stage
			use(ep.UntrackedTiers)
		}
		use(ep.PreDNATTiers)
	}
	return used
}
