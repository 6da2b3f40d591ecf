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

// merged is what one fragment put into the table: all of it, or the
// chains a keep filter let through.
type merged struct {
	chains   []*nft.Chain
	sets     []*nft.Set
	mapElems []mapElem
}

// mergeInto adds the fragment to the desired table; keep (if not nil)
// filters chains. It returns what it added, for removeFrom.
func (f *fragment) mergeInto(t *nft.Table, keep func(string) bool) *merged {
	mg := &merged{chains: f.chains, sets: f.sets, mapElems: f.mapElems}
	if keep != nil {
		mg.chains = nil
		for _, c := range f.chains {
			if keep(c.Name) {
				mg.chains = append(mg.chains, c)
			}
		}
	}
	for _, c := range mg.chains {
		t.Chains[c.Name] = c
	}
	for _, s := range mg.sets {
		t.Sets[s.Name] = s
	}
	for _, e := range mg.mapElems {
		t.Maps[e.m].Elements[e.key] = e.value
	}
	return mg
}

// removeFrom takes out of the table what mergeInto added, leaving any name
// another fragment has taken over since.
func (mg *merged) removeFrom(t *nft.Table) {
	for _, c := range mg.chains {
		if t.Chains[c.Name] == c {
			delete(t.Chains, c.Name)
		}
	}
	for _, s := range mg.sets {
		if t.Sets[s.Name] == s {
			delete(t.Sets, s.Name)
		}
	}
	for _, e := range mg.mapElems {
		if elems := t.Maps[e.m].Elements; elems[e.key] == e.value {
			delete(elems, e.key)
		}
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
