package nft

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"
)

// state is what the kernel's table holds, as far as the Reconciler can tell:
// chains by their rule comments, sets and maps by their elements. Base-chain
// hooks and set types are not compared: names encode them.
type state struct {
	tableExists bool
	chains      map[string][]string
	sets        map[string]map[string]struct{}
	maps        map[string]map[string]string
}

func newState() *state {
	return &state{chains: map[string][]string{}, sets: map[string]map[string]struct{}{}, maps: map[string]map[string]string{}}
}

// readState lists the table: in one `nft -j list table` when nft is also a
// TableLister, otherwise through knftables — one `nft list` for the chain
// names, one for every rule (comments and handles only), and one per set
// and map for the elements.
func readState(ctx context.Context, nft knftables.Interface) (*state, error) {
	if l, ok := nft.(TableLister); ok {
		data, exists, err := l.ListTableJSON(ctx)
		if err != nil {
			return nil, err
		}
		if !exists {
			return newState(), nil
		}
		return parseTableJSON(data)
	}
	st := newState()
	chains, err := nft.List(ctx, "chain")
	if knftables.IsNotFound(err) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	st.tableExists = true
	for _, c := range chains {
		st.chains[c] = []string{}
	}
	rules, err := nft.ListRules(ctx, "")
	if err != nil && !knftables.IsNotFound(err) {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	for _, r := range rules {
		c := ""
		if r.Comment != nil {
			c = *r.Comment
		}
		st.chains[r.Chain] = append(st.chains[r.Chain], c)
	}
	sets, err := nft.List(ctx, "set")
	if err != nil && !knftables.IsNotFound(err) {
		return nil, fmt.Errorf("list sets: %w", err)
	}
	for _, name := range sets {
		elems, err := nft.ListElements(ctx, "set", name)
		if err != nil {
			return nil, fmt.Errorf("list elements of set %s: %w", name, err)
		}
		m := make(map[string]struct{}, len(elems))
		for _, e := range elems {
			m[strings.Join(e.Key, " . ")] = struct{}{}
		}
		st.sets[name] = m
	}
	mapNames, err := nft.List(ctx, "map")
	if err != nil && !knftables.IsNotFound(err) {
		return nil, fmt.Errorf("list maps: %w", err)
	}
	for _, name := range mapNames {
		elems, err := nft.ListElements(ctx, "map", name)
		if err != nil {
			return nil, fmt.Errorf("list elements of map %s: %w", name, err)
		}
		m := make(map[string]string, len(elems))
		for _, e := range elems {
			// The fake hands back keys as written (quoted); nft unquoted.
			m[strings.Trim(strings.Join(e.Key, " . "), `"`)] = strings.Join(e.Value, " . ")
		}
		st.maps[name] = m
	}
	return st, nil
}

// diffCount counts the objects that differ between two states (used to
// report drift: what the kernel holds that our cache did not expect).
func diffCount(a, b *state) int {
	n := 0
	if a.tableExists != b.tableExists {
		n++
	}
	for name, ca := range a.chains {
		if cb, ok := b.chains[name]; !ok || !slices.Equal(ca, cb) {
			n++
		}
	}
	for name := range b.chains {
		if _, ok := a.chains[name]; !ok {
			n++
		}
	}
	for name, sa := range a.sets {
		if sb, ok := b.sets[name]; !ok || !maps.Equal(sa, sb) {
			n++
		}
	}
	for name := range b.sets {
		if _, ok := a.sets[name]; !ok {
			n++
		}
	}
	for name, ma := range a.maps {
		if mb, ok := b.maps[name]; !ok || !maps.Equal(ma, mb) {
			n++
		}
	}
	for name := range b.maps {
		if _, ok := a.maps[name]; !ok {
			n++
		}
	}
	return n
}
