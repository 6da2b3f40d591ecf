package dataplane

import (
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// fragment is the rendered nft objects of one calc object (a policy, a
// profile, an endpoint or an IP set). Fragments are cached between applies
// and dropped when their object changes, so a steady-state Apply re-renders
// only what changed; the Reconciler then compares cached chains by their
// memoised comment hashes.
type fragment struct {
	chains   []*nft.Chain
	sets     []*nft.Set
	mapElems []mapElem
}

// mapElem is one verdict-map entry a fragment contributes.
type mapElem struct{ m, key, value string }

// scratchTable is an empty table with the dispatch maps, for rendering one
// object.
func scratchTable() *nft.Table {
	t := nft.NewTable()
	for _, name := range []string{mapFromWL, mapToWL, mapHostToWL, mapFromHEP, mapToHEP, mapFromHEPFwd, mapToHEPFwd,
		mapFromHEPUntracked, mapToHEPUntracked, mapFromHEPPreDNAT} {
		t.Maps[name] = &nft.Map{Name: name, Elements: map[string]string{}}
	}
	return t
}

// fragmentOf collects what was rendered into a scratch table.
func fragmentOf(t *nft.Table) *fragment {
	f := &fragment{}
	for _, name := range sortedKeys(t.Chains) {
		f.chains = append(f.chains, t.Chains[name])
	}
	for _, name := range sortedKeys(t.Sets) {
		f.sets = append(f.sets, t.Sets[name])
	}
	for _, name := range sortedKeys(t.Maps) {
		for k, v := range t.Maps[name].Elements {
			f.mapElems = append(f.mapElems, mapElem{name, k, v})
		}
	}
	return f
}

// mergeInto adds the fragment to the desired table; keep (if not nil)
// filters chains.
func (f *fragment) mergeInto(t *nft.Table, keep func(string) bool) {
	for _, c := range f.chains {
		if keep == nil || keep(c.Name) {
			t.Chains[c.Name] = c
		}
	}
	for _, s := range f.sets {
		t.Sets[s.Name] = s
	}
	for _, e := range f.mapElems {
		t.Maps[e.m].Elements[e.key] = e.value
	}
}

// cached returns the fragment under key, rendering it with fn on a miss.
func (m *PolicyManager) cached(key string, fn func(t *nft.Table)) *fragment {
	if f := m.cache[key]; f != nil {
		return f
	}
	t := scratchTable()
	fn(t)
	f := fragmentOf(t)
	m.cache[key] = f
	return f
}
