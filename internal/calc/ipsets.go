package calc

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// ipsetSel is one distinct selector (by UniqueID) that at least one active
// IP set uses. It is evaluated once per item however many sets and rules
// share it.
type ipsetSel struct {
	uid string
	sel *selector.Selector
	// req is a label equality every match satisfies (empty key: none).
	req     labelReq
	matches map[itemKey]*item
	// plain is the selector's address set; named its named-port sets.
	plain *ipset
	named map[portKey]*ipset
}

// ipset is one IP set: reference-counted by the active rules that use it,
// with reference-counted members (two items may share an address).
type ipset struct {
	id      string
	typ     IPSetType
	sel     *ipsetSel
	port    portKey
	refs    int
	members map[string]int
	// emitted is false until the full set has been sent; after that,
	// pending holds the net change since the last batch (true = added,
	// false = removed).
	emitted bool
	pending map[string]bool
}

// setSpec describes a set a rule needs: the selector and, for a named-port
// set, the port.
type setSpec struct {
	id    string
	sel   *selector.Selector
	named bool
	port  portKey
}

// selectorSetSpec is the address set of a selector; its ID is the
// selector's UniqueID (Calico's IP set ID for the same selector).
func selectorSetSpec(sel *selector.Selector) setSpec {
	return setSpec{id: sel.UniqueID(), sel: sel}
}

// namedPortSetSpec is the named-port set of a selector, protocol and port
// name, with an ID hashed from all three.
func namedPortSetSpec(sel *selector.Selector, proto, name string) setSpec {
	sum := sha256.Sum224([]byte("n:" + sel.String() + "," + proto + ":" + name))
	return setSpec{id: "n:" + base64.RawURLEncoding.EncodeToString(sum[:]), sel: sel, named: true, port: portKey{proto: proto, name: name}}
}

// incref takes a reference on the set, creating it (and its selector
// entry, evaluated against every item) on first use.
func (g *Graph) incref(spec setSpec) {
	if s := g.ipsets[spec.id]; s != nil {
		s.refs++
		return
	}
	uid := spec.sel.UniqueID()
	ss := g.ipsetSels[uid]
	if ss == nil {
		ss = &ipsetSel{uid: uid, sel: spec.sel, req: newLabelReq(spec.sel), matches: map[itemKey]*item{}, named: map[portKey]*ipset{}}
		g.ipsetSels[uid] = ss
		for _, it := range g.candidates(ss.req) {
			if ss.sel.Evaluate(it.labels) {
				ss.matches[it.key] = it
				it.sels[uid] = struct{}{}
			}
		}
	}
	s := &ipset{id: spec.id, typ: IPSetNets, sel: ss, port: spec.port, refs: 1, members: map[string]int{}}
	if spec.named {
		s.typ = IPSetNetPorts
		ss.named[spec.port] = s
	} else {
		ss.plain = s
	}
	for _, it := range ss.matches {
		s.forEachMember(it, func(m string) { s.members[m]++ })
	}
	g.ipsets[spec.id] = s
	// A set removed earlier in this batch and recreated is sent as a full
	// replacement rather than a remove followed by an update.
	delete(g.removedSets, spec.id)
	g.dirtySets[spec.id] = struct{}{}
}

// decref drops a reference; the last one deletes the set, and the last set
// of a selector deletes the selector entry.
func (g *Graph) decref(id string) {
	s := g.ipsets[id]
	if s == nil {
		panic("calc: decref of unknown IP set " + id)
	}
	if s.refs--; s.refs > 0 {
		return
	}
	delete(g.ipsets, id)
	delete(g.dirtySets, id)
	if s.emitted {
		g.removedSets[id] = struct{}{}
	}
	ss := s.sel
	if s.typ == IPSetNets {
		ss.plain = nil
	} else {
		delete(ss.named, s.port)
	}
	if ss.plain == nil && len(ss.named) == 0 {
		for key, it := range ss.matches {
			delete(it.sels, ss.uid)
			_ = key
		}
		delete(g.ipsetSels, ss.uid)
	}
}

// forEachMember calls fn with every member the item contributes to the set.
func (s *ipset) forEachMember(it *item, fn func(string)) {
	if s.typ == IPSetNets {
		for _, n := range it.nets {
			fn(n)
		}
		return
	}
	for _, p := range it.ports {
		if p.name != s.port.name || p.proto != s.port.proto {
			continue
		}
		for _, ip := range it.hostIPs {
			fn(ip + "," + p.proto + ":" + strconv.Itoa(int(p.port)))
		}
	}
}

// addMember counts one more contribution of m.
func (g *Graph) addMember(s *ipset, m string) {
	s.members[m]++
	if s.members[m] != 1 || !s.emitted {
		return
	}
	if added, ok := s.pending[m]; ok && !added {
		delete(s.pending, m)
	} else {
		s.pendingSet()[m] = true
	}
	g.dirtySets[s.id] = struct{}{}
}

// delMember counts one fewer contribution of m.
func (g *Graph) delMember(s *ipset, m string) {
	n := s.members[m] - 1
	if n > 0 {
		s.members[m] = n
		return
	}
	delete(s.members, m)
	if !s.emitted {
		return
	}
	if added, ok := s.pending[m]; ok && added {
		delete(s.pending, m)
	} else {
		s.pendingSet()[m] = false
	}
	g.dirtySets[s.id] = struct{}{}
}

func (s *ipset) pendingSet() map[string]bool {
	if s.pending == nil {
		s.pending = map[string]bool{}
	}
	return s.pending
}

// addContrib adds the item's members to every set of the selector.
func (ss *ipsetSel) addContrib(g *Graph, it *item) {
	if ss.plain != nil {
		ss.plain.forEachMember(it, func(m string) { g.addMember(ss.plain, m) })
	}
	for _, s := range ss.named {
		s.forEachMember(it, func(m string) { g.addMember(s, m) })
	}
}

// removeContrib withdraws the item's members from every set of the selector.
func (ss *ipsetSel) removeContrib(g *Graph, it *item) {
	if ss.plain != nil {
		ss.plain.forEachMember(it, func(m string) { g.delMember(ss.plain, m) })
	}
	for _, s := range ss.named {
		s.forEachMember(it, func(m string) { g.delMember(s, m) })
	}
}
