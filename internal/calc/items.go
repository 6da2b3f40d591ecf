package calc

import (
	"net/netip"
	"strings"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// itemKind says what a labelled item is.
type itemKind uint8

const (
	kindWEP itemKind = iota + 1
	kindHEP
	kindNetSet // NetworkSet (namespaced) or GlobalNetworkSet
)

// itemKey identifies a labelled item: an endpoint or a network set.
type itemKey struct {
	kind itemKind
	ns   string
	name string
}

// namedPort is one named port of an endpoint.
type namedPort struct {
	name  string
	proto string // tcp, udp or sctp
	port  uint16
}

// portKey names a named-port IP set's port: protocol and port name.
type portKey struct {
	proto string
	name  string
}

// item is one labelled thing selectors can match: a workload or host
// endpoint (anywhere in the cluster) or a network set. Its effective labels
// are its own labels overlaid on the labelsToApply of its profiles (the
// first profile naming a label wins; the item's own labels win over all).
type item struct {
	key     itemKey
	own     map[string]string
	parents []string
	labels  map[string]string

	// nets are the item's addresses as canonical CIDRs (IP set members).
	nets []string
	// hostIPs are the single addresses among nets, for named-port members.
	hostIPs []string
	ports   []namedPort
	// local is true for endpoints on this node.
	local bool
	// endpoint data for local endpoints (nil otherwise).
	wep *localWEP
	hep *localHEP

	// sels holds the UIDs of the IP-set selectors that match the item;
	// pols the UIDs of the policy selectors (local endpoints only).
	sels map[string]struct{}
	pols map[string]struct{}
}

// localWEP is what a local workload endpoint contributes besides labels.
type localWEP struct {
	iface, mac string
	v4, v6     []string
	profiles   []string
	spoof      []string
}

// localHEP is what a local host endpoint contributes besides labels.
type localHEP struct {
	iface    string
	v4, v6   []string
	profiles []string
}

// Get implements selector.Labels over the effective labels.
func (it *item) Get(k string) (string, bool) {
	v, ok := it.labels[k]
	return v, ok
}

// computeLabels rebuilds the effective labels from own labels and the
// current profiles. Items without parents share their own map.
func (g *Graph) computeLabels(it *item) {
	if len(it.parents) == 0 {
		it.labels = it.own
		return
	}
	n := len(it.own)
	for _, p := range it.parents {
		if pd := g.profiles[p]; pd != nil {
			n += len(pd.labels)
		}
	}
	m := make(map[string]string, n)
	for i := len(it.parents) - 1; i >= 0; i-- {
		if pd := g.profiles[it.parents[i]]; pd != nil {
			for k, v := range pd.labels {
				m[k] = v
			}
		}
	}
	// The namespace label is the graph's to set (it scopes namespaced
	// policy), never inherited.
	delete(m, LabelNamespace)
	for k, v := range it.own {
		m[k] = v
	}
	it.labels = m
}

// canonicalNets parses addresses or CIDRs into masked canonical CIDRs,
// dropping (and reporting) what does not parse. Single addresses become
// /32 or /128 and are also returned as bare host IPs.
func canonicalNets(in []string) (nets, hosts []string, bad []string) {
	for _, s := range in {
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			bad = append(bad, s)
			continue
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked()
		nets = append(nets, p.String())
		if p.IsSingleIP() {
			hosts = append(hosts, p.Addr().String())
		}
	}
	return nets, hosts, bad
}

// upsertItem replaces (or adds) an item: it is withdrawn from every index
// with its old labels and re-entered with its new ones. Set members that
// survive cancel out in the pending deltas, so the output only shows what
// changed.
func (g *Graph) upsertItem(it *item) {
	g.removeItem(it.key)
	g.items[it.key] = it
	for _, p := range it.parents {
		refs := g.profileItems[p]
		if refs == nil {
			refs = map[itemKey]struct{}{}
			g.profileItems[p] = refs
		}
		refs[it.key] = struct{}{}
		if it.local {
			g.localProfileRefs[p]++
			g.dirtyProfiles[p] = struct{}{}
		}
	}
	g.computeLabels(it)
	g.indexItem(it)
	if it.local {
		g.dirtyEndpoints[it.key] = struct{}{}
	}
}

// removeItem deletes an item and withdraws it from every index.
func (g *Graph) removeItem(key itemKey) {
	it := g.items[key]
	if it == nil {
		return
	}
	g.unindexItem(it)
	for _, p := range it.parents {
		if refs := g.profileItems[p]; refs != nil {
			delete(refs, key)
			if len(refs) == 0 {
				delete(g.profileItems, p)
			}
		}
		if it.local {
			if g.localProfileRefs[p]--; g.localProfileRefs[p] <= 0 {
				delete(g.localProfileRefs, p)
			}
			g.dirtyProfiles[p] = struct{}{}
		}
	}
	delete(g.items, key)
	if it.local {
		g.dirtyEndpoints[key] = struct{}{}
	}
}

// indexItem evaluates the item against every active IP-set selector and,
// for local endpoints, every policy selector. This is the per-item cost of
// a change: O(active selectors), never O(items).
func (g *Graph) indexItem(it *item) {
	g.indexLabels(it, true)
	it.sels = map[string]struct{}{}
	for uid, s := range g.ipsetSels {
		if !s.req.allows(it) {
			continue
		}
		if s.sel.Evaluate(it.labels) {
			it.sels[uid] = struct{}{}
			s.matches[it.key] = it
			s.addContrib(g, it)
		}
	}
	if !it.local || it.key.kind == kindNetSet {
		return
	}
	it.pols = map[string]struct{}{}
	for uid, ps := range g.polSels {
		if !ps.req.allows(it) {
			continue
		}
		if ps.sel.Evaluate(it.labels) {
			it.pols[uid] = struct{}{}
			ps.matches[it.key] = it
			for pk := range ps.policies {
				g.activityDirty[pk] = struct{}{}
			}
		}
	}
}

// unindexItem withdraws the item from the selectors it matched.
func (g *Graph) unindexItem(it *item) {
	g.indexLabels(it, false)
	for uid := range it.sels {
		s := g.ipsetSels[uid]
		s.removeContrib(g, it)
		delete(s.matches, it.key)
	}
	it.sels = nil
	for uid := range it.pols {
		ps := g.polSels[uid]
		delete(ps.matches, it.key)
		for pk := range ps.policies {
			g.activityDirty[pk] = struct{}{}
		}
	}
	it.pols = nil
}

// relabelProfile re-indexes every item that inherits labels from profile
// name (its labelsToApply changed, or it appeared or vanished).
func (g *Graph) relabelProfile(name string) {
	for key := range g.profileItems[name] {
		it := g.items[key]
		g.unindexItem(it)
		g.computeLabels(it)
		g.indexItem(it)
		if it.local {
			g.dirtyEndpoints[key] = struct{}{}
		}
	}
}

// labelReq is a label equality a selector requires, used to narrow the
// items it is evaluated against.
type labelReq struct{ key, value string }

func newLabelReq(sel *selector.Selector) labelReq {
	k, v, _ := requiredLabel(sel)
	return labelReq{key: k, value: v}
}

// allows is a cheap pre-check: false means the selector cannot match.
func (r labelReq) allows(it *item) bool {
	if r.key == "" {
		return true
	}
	v, ok := it.labels[r.key]
	return ok && v == r.value
}

// candidates returns the items a selector with requirement r can match:
// those indexed under its label value, or every item.
func (g *Graph) candidates(r labelReq) map[itemKey]*item {
	if r.key == "" {
		return g.items
	}
	return g.labelIndex[r]
}

// indexLabels enters (add) or withdraws the item's effective labels in the
// label-value index.
func (g *Graph) indexLabels(it *item, add bool) {
	for k, v := range it.labels {
		r := labelReq{key: k, value: v}
		if add {
			m := g.labelIndex[r]
			if m == nil {
				m = map[itemKey]*item{}
				g.labelIndex[r] = m
			}
			m[it.key] = it
		} else if m := g.labelIndex[r]; m != nil {
			if delete(m, it.key); len(m) == 0 {
				delete(g.labelIndex, r)
			}
		}
	}
}
