package nft

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/knftables"
)

// Reconciler keeps one nftables table equal to a desired Table with minimal,
// atomic transactions. It caches what it believes the kernel holds; the
// cache is (re)built from the kernel on first use, after a failed
// transaction and whenever Invalidate is called (the periodic resync), so
// drift — a rule, element or chain changed by hand — is found and repaired.
// It is not safe for concurrent use.
type Reconciler struct {
	nft    knftables.Interface
	log    *slog.Logger
	family knftables.Family
	table  string
	actual *state
	// synced are the desired sets of the last successful Sync: a set passed
	// again as the same object (renderers cache them) needs no element
	// diff while the cache is trusted. Cleared whenever actual is re-read.
	synced map[string]*Set
	// reading is the channel of a background read-back in progress, and
	// written what transactions changed meanwhile (readback_async.go).
	reading chan readResult
	written *written
}

// NewReconciler returns a Reconciler for the table nft was created for
// (family/table are only used in messages).
func NewReconciler(nft knftables.Interface, family knftables.Family, table string, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.Default()
	}
	return &Reconciler{nft: nft, log: log, family: family, table: table}
}

// Result says what one Sync changed.
type Result struct {
	// Operations is the number of commands in the transaction (0: nothing
	// differed and nothing was run).
	Operations int
	// ChainsWritten counts chains created or flushed and refilled.
	ChainsWritten int
	// ChainsDeleted, SetsDeleted count objects pruned.
	ChainsDeleted, SetsDeleted int
	// ElementsAdded, ElementsRemoved count set and map element changes.
	ElementsAdded, ElementsRemoved int
	// Drift is the number of objects the kernel held differently from our
	// cache when it was read back (0 when no read-back happened).
	Drift int
}

// Invalidate makes the next Sync read the table back from the kernel first.
func (r *Reconciler) Invalidate() { r.actual, r.synced = nil, nil }

// Sync makes the kernel table equal to want. With prune false nothing is
// removed (no chains, sets, maps, set or map elements): that is how the
// first applies after a restart run, before the datastore is in sync.
// Order inside the one transaction: table, sets and maps and their new
// elements, chains, chain contents (flush + refill of the chains that
// differ), map element changes, then removals — map elements, set elements,
// chains (flushed first, so chains that jump to each other can go in one
// go), and last the sets and maps no rule uses any more.
func (r *Reconciler) Sync(ctx context.Context, want *Table, prune bool) (Result, error) {
	var res Result
	if r.actual == nil {
		st, err := readState(ctx, r.nft)
		if err != nil {
			return res, fmt.Errorf("read back table %s %s: %w", r.family, r.table, err)
		}
		r.actual, r.synced = st, nil
	}
	return r.syncFrom(ctx, want, prune, res)
}

// ReadBack re-reads the kernel's table and returns how many objects differ
// from the cache (drift). The next Sync repairs them.
func (r *Reconciler) ReadBack(ctx context.Context) (int, error) {
	st, err := readState(ctx, r.nft)
	if err != nil {
		r.actual = nil
		return 0, fmt.Errorf("read back table %s %s: %w", r.family, r.table, err)
	}
	drift := 0
	if r.actual != nil {
		drift = diffCount(r.actual, st)
	}
	r.actual, r.synced = st, nil
	return drift, nil
}

func (r *Reconciler) syncFrom(ctx context.Context, want *Table, prune bool, res Result) (Result, error) {
	have := r.actual
	next := cloneState(have)
	tx := r.nft.NewTransaction()

	if !have.tableExists {
		tx.Add(&knftables.Table{Comment: knftables.PtrTo("owned by tricolor (calico-node felix); do not edit")})
		next.tableExists = true
	}

	// The objects to compare: all of them, or — when the cache is exactly
	// the result of syncing the previous want (a successful pruning Sync,
	// nothing re-read since) and want names what changed since — only
	// those.
	wantChains, wantSets, elemMaps := want.Chains, want.Sets, want.Maps
	haveChains, haveSets := have.chains, have.sets
	if ch := want.Changed; ch != nil && r.synced != nil && prune {
		wantChains, haveChains = pick(want.Chains, ch.Chains), pick(have.chains, ch.Chains)
		wantSets, haveSets = pick(want.Sets, ch.Sets), pick(have.sets, ch.Sets)
		elemMaps = pick(want.Maps, ch.Maps)
		for name, m := range want.Maps {
			if _, ok := have.maps[name]; !ok {
				elemMaps[name] = m // new: all its elements
			}
		}
	}

	// Sets and maps, and their new elements, before any rule uses them.
	// Sets passed again as the same object since the last sync need no
	// element diff; only the others are looked at (sorted, for stable
	// transactions).
	for _, name := range sortedWhere(wantSets, func(name string, s *Set) bool {
		_, exists := have.sets[name]
		return !exists || r.synced[name] != s
	}) {
		s := want.Sets[name]
		cur, exists := have.sets[name]
		if !exists {
			set := &knftables.Set{Name: name, Type: s.Type}
			if s.Interval {
				set.Flags = []knftables.SetFlag{knftables.IntervalFlag}
			}
			if s.Comment != "" {
				set.Comment = knftables.PtrTo(sanitizeComment(s.Comment))
			}
			tx.Add(set)
			cur = map[string]struct{}{}
		}
		// Copy on write: most syncs change few sets.
		nextElems := cur
		for _, k := range sortedWhere(s.Elements, func(k string, _ struct{}) bool { _, ok := cur[k]; return !ok }) {
			if sameMap(nextElems, cur) {
				nextElems = cloneSet(cur)
			}
			tx.Add(&knftables.Element{Set: name, Key: strings.Split(k, " . ")})
			nextElems[k] = struct{}{}
			res.ElementsAdded++
		}
		next.sets[name] = nextElems
	}
	for _, name := range sortedKeys(want.Maps) { // a handful
		m := want.Maps[name]
		if _, exists := have.maps[name]; !exists {
			mp := &knftables.Map{Name: name, Type: m.Type}
			if m.Comment != "" {
				mp.Comment = knftables.PtrTo(sanitizeComment(m.Comment))
			}
			tx.Add(mp)
			next.maps[name] = map[string]string{}
		}
	}

	// Chains: create the missing ones first so that jumps between new
	// chains resolve, then fill the ones whose rules differ.
	for _, name := range sortedWhere(wantChains, func(name string, _ *Chain) bool { _, ok := have.chains[name]; return !ok }) {
		c := want.Chains[name]
		ch := &knftables.Chain{Name: name}
		if c.Base != nil {
			ch.Type = knftables.PtrTo(c.Base.Type)
			ch.Hook = knftables.PtrTo(c.Base.Hook)
			ch.Priority = knftables.PtrTo(c.Base.Priority)
		}
		tx.Add(ch)
		next.chains[name] = []string{}
	}
	for _, name := range sortedWhere(wantChains, func(name string, c *Chain) bool {
		cur, exists := have.chains[name]
		return !exists || !slices.Equal(cur, c.comments())
	}) {
		c := want.Chains[name]
		comments := c.comments()
		cur, exists := have.chains[name]
		if exists && len(cur) > 0 {
			tx.Flush(&knftables.Chain{Name: name})
		}
		for i, rule := range c.Rules {
			tx.Add(&knftables.Rule{Chain: name, Rule: rule.Text, Comment: knftables.PtrTo(comments[i])})
		}
		next.chains[name] = comments
		res.ChainsWritten++
	}

	// Map elements (verdicts point at chains that now exist).
	for _, name := range sortedKeys(elemMaps) {
		m := want.Maps[name]
		cur := have.maps[name]
		nextElems := maps.Clone(next.maps[name])
		for _, k := range sortedWhere(m.Elements, func(k, v string) bool { old, ok := cur[k]; return !ok || old != v }) {
			v := m.Elements[k]
			_, ok := cur[k]
			if ok {
				tx.Delete(&knftables.Element{Map: name, Key: m.mapKey(k)})
			}
			tx.Add(&knftables.Element{Map: name, Key: m.mapKey(k), Value: strings.Split(v, " . ")})
			nextElems[k] = v
			res.ElementsAdded++
		}
		if prune {
			for _, k := range sortedWhere(cur, func(k, _ string) bool { _, ok := m.Elements[k]; return !ok }) {
				tx.Delete(&knftables.Element{Map: name, Key: m.mapKey(k)})
				delete(nextElems, k)
				res.ElementsRemoved++
			}
		}
		next.maps[name] = nextElems
	}

	if prune {
		for _, name := range sortedWhere(wantSets, func(name string, s *Set) bool {
			return len(have.sets[name]) > 0 && r.synced[name] != s
		}) {
			var stale []string
			for k := range have.sets[name] {
				if _, ok := want.Sets[name].Elements[k]; !ok {
					stale = append(stale, k)
				}
			}
			if len(stale) == 0 {
				continue
			}
			sort.Strings(stale)
			if sameMap(next.sets[name], have.sets[name]) {
				next.sets[name] = cloneSet(have.sets[name])
			}
			for _, k := range stale {
				tx.Delete(&knftables.Element{Set: name, Key: strings.Split(k, " . ")})
				delete(next.sets[name], k)
				res.ElementsRemoved++
			}
		}
		// Maps we no longer want: their elements may point at chains that
		// are about to go, so the maps go before the chains.
		for _, name := range sortedWhere(have.maps, func(name string, _ map[string]string) bool { _, ok := want.Maps[name]; return !ok }) {
			tx.Delete(&knftables.Map{Name: name})
			delete(next.maps, name)
			res.SetsDeleted++
		}
		var gone []string
		for _, name := range sortedWhere(haveChains, func(name string, _ []string) bool { _, ok := want.Chains[name]; return !ok }) {
			gone = append(gone, name)
			if len(have.chains[name]) > 0 {
				tx.Flush(&knftables.Chain{Name: name})
			}
		}
		for _, name := range gone {
			tx.Delete(&knftables.Chain{Name: name})
			delete(next.chains, name)
			res.ChainsDeleted++
		}
		for _, name := range sortedWhere(haveSets, func(name string, _ map[string]struct{}) bool { _, ok := want.Sets[name]; return !ok }) {
			tx.Delete(&knftables.Set{Name: name})
			delete(next.sets, name)
			res.SetsDeleted++
		}
	}

	res.Operations = tx.NumOperations()
	if res.Operations == 0 {
		r.actual = next
		r.remember(want, prune)
		return res, nil
	}
	if r.written != nil {
		r.written.note(have, next)
	}
	if err := r.nft.Run(ctx, tx); err != nil {
		// We no longer know what the kernel holds: read it back next time.
		r.actual, r.synced = nil, nil
		return res, fmt.Errorf("nftables transaction on table %s %s (%d operations) failed; the table is unchanged and the next apply re-reads it: %w",
			r.family, r.table, res.Operations, err)
	}
	r.actual = next
	r.remember(want, prune)
	return res, nil
}

// remember records the sets just synced. Without prune, stale elements were
// left in place, so nothing may be skipped next time.
func (r *Reconciler) remember(want *Table, prune bool) {
	if !prune {
		r.synced = nil
		return
	}
	r.synced = make(map[string]*Set, len(want.Sets))
	maps.Copy(r.synced, want.Sets)
}

// cloneState copies the top-level maps; element maps are shared and cloned
// by the writer before any change (copy on write).
func cloneState(s *state) *state {
	// maps.Clone sizes the copies at once (copying into empty maps
	// rehashed them several times over, per Sync, at thousands of chains).
	return &state{tableExists: s.tableExists, chains: maps.Clone(s.chains), sets: maps.Clone(s.sets), maps: maps.Clone(s.maps)}
}

// cloneSet copies a set's elements (never returning nil).
func cloneSet(m map[string]struct{}) map[string]struct{} {
	out := make(map[string]struct{}, len(m)+1)
	maps.Copy(out, m)
	return out
}

// sameMap reports whether a and b are the same map object (not merely
// equal), for copy on write.
func sameMap[V any](a, b map[string]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
