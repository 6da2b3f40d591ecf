package ipam

import (
	"context"
	"net/netip"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Fingerprinter is an optional extension of Store: in one round trip it
// returns, for each set of resources, an opaque fingerprint that changes
// whenever a resource in the set is created, updated or deleted (equal
// fingerprints mean an identical set). The etcd backend implements it.
// With it, IPAM keeps what it read last (pools, reservations, the IPAM
// configuration, a node's labels and affinities) and re-reads a set only
// when its fingerprint moved; without it, IPAM reads everything afresh on
// every request.
type Fingerprinter interface {
	Fingerprints(ctx context.Context, sets []datastore.ListOptions) ([]string, error)
}

// view is what one request reads besides blocks and handles: the
// configuration, pools and reservations and, for the node the request is
// for, its labels and affinities. A view is as current as a fresh read
// made when it was taken: cached parts are used only when their
// fingerprint, read at that moment, still matches (docs/ipam.md, "The
// cache"). Views are per request; nothing in one is shared with another.
type view struct {
	cfg      Config
	pools    []pool
	res      reservations
	resNames map[netip.Prefix]string
	// node is the node the node parts below belong to ("" = not loaded).
	node   string
	labels map[string]string
	affs   []*affinity
	// blockFP holds, for the node's affine blocks the cache knew of, the
	// fingerprint of each block taken when the view was (before any block
	// of this request was read); stillFull those of them known full then.
	blockFP   map[netip.Prefix]string
	stillFull map[netip.Prefix]bool
}

// cache is one IPAM's memory of its last reads. The global part covers
// IPPools, IPReservations and the IPAMConfiguration; the per-node parts a
// node's labels, affinities, and the block it last allocated from (its
// content and revision, used as the first guess for the next allocation:
// the block write is a CAS on that revision, so a stale copy only costs a
// failed write and a re-read).
type cache struct {
	mu     sync.Mutex
	global struct {
		fp       [3]string
		valid    bool
		cfg      Config
		pools    []pool
		res      reservations
		resNames map[netip.Prefix]string
	}
	nodes map[string]*nodeCache
}

// nodeCache is the cached state of one node.
type nodeCache struct {
	fp     [2]string
	valid  bool
	labels map[string]string
	affs   []*affinity
	// last is a private copy of the block this node last wrote; nil if none.
	last *block
	// full maps affine blocks seen full (no free ordinal, none cooling
	// down) to their fingerprint taken before that read: while the
	// fingerprint is unchanged the block is unchanged, so still full, and
	// need not be read.
	full map[netip.Prefix]string
}

// maxBlockSets caps the block fingerprints read with a view (etcd allows
// 128 operations per transaction by default).
const maxBlockSets = 64

// globalSets are the fingerprinted sets every view needs.
var globalSets = []datastore.ListOptions{{Kind: kindIPPool}, {Kind: kindIPReservation}, {Kind: kindIPAMConfig}}

// nodeSets are the fingerprinted sets of one node: its Node resource and
// its affinities (name prefixes; they may also cover nodes whose names
// extend this one, which only makes the cache re-read more often).
func nodeSets(node string) []datastore.ListOptions {
	return []datastore.ListOptions{{Kind: kindNode, NamePrefix: node}, {Kind: kindBlockAffinity, NamePrefix: node + "-"}}
}

// fingerprinter returns the store's Fingerprinter when caching is on.
func (m *IPAM) fingerprinter() Fingerprinter {
	if m.cache == nil {
		return nil
	}
	f, _ := m.st.(Fingerprinter)
	return f
}

// loadView reads the configuration, pools, reservations and, when node is
// set, the node's labels and affinities — from the cache where the
// fingerprints show nothing changed, else from the store.
func (m *IPAM) loadView(ctx context.Context, node string) (*view, error) {
	f := m.fingerprinter()
	if f == nil {
		return m.readView(ctx, node)
	}
	sets := globalSets
	var blocks []netip.Prefix
	if node != "" {
		sets = append(append([]datastore.ListOptions(nil), globalSets...), nodeSets(node)...)
		m.cache.mu.Lock()
		if n := m.cache.nodes[node]; n != nil {
			for _, a := range n.affs {
				if len(blocks) < maxBlockSets {
					blocks = append(blocks, a.cidr)
					sets = append(sets, datastore.ListOptions{Kind: kindIPAMBlock, NamePrefix: blockName(a.cidr)})
				}
			}
		}
		m.cache.mu.Unlock()
	}
	fps, err := f.Fingerprints(ctx, sets)
	if err != nil {
		// Caching is an optimisation: fall back to plain reads.
		m.log.Debug("ipam: fingerprints unavailable; reading afresh", "err", err)
		return m.readView(ctx, node)
	}
	v := &view{}
	c := m.cache
	c.mu.Lock()
	g := c.global
	globalOK := g.valid && g.fp == [3]string(fps[:3])
	if globalOK {
		v.cfg, v.pools, v.res, v.resNames = g.cfg, g.pools, g.res, g.resNames
	}
	var nc nodeCache
	nodeOK := false
	if node != "" {
		n := c.node(node)
		if n.valid && n.fp == [2]string(fps[3:5]) {
			nodeOK, nc = true, *n
		}
		v.blockFP = make(map[netip.Prefix]string, len(blocks))
		v.stillFull = map[netip.Prefix]bool{}
		for i, cidr := range blocks {
			fp := fps[5+i]
			v.blockFP[cidr] = fp
			if old, ok := n.full[cidr]; ok {
				if old == fp {
					v.stillFull[cidr] = true
				} else {
					delete(n.full, cidr)
				}
			}
		}
	}
	c.mu.Unlock()

	if !globalOK {
		if err := m.readGlobal(ctx, v); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.global.fp, c.global.valid = [3]string(fps[:3]), true
		c.global.cfg, c.global.pools, c.global.res, c.global.resNames = v.cfg, v.pools, v.res, v.resNames
		c.mu.Unlock()
	}
	if node == "" {
		return v, nil
	}
	v.node = node
	if nodeOK {
		v.labels = nc.labels
		v.affs = copyAffinities(nc.affs)
		return v, nil
	}
	if err := m.readNode(ctx, v, node); err != nil {
		return nil, err
	}
	c.mu.Lock()
	n := c.node(node)
	n.fp, n.valid = [2]string(fps[3:5]), true
	n.labels, n.affs = v.labels, copyAffinities(v.affs)
	c.mu.Unlock()
	return v, nil
}

// readView reads everything afresh (no cache).
func (m *IPAM) readView(ctx context.Context, node string) (*view, error) {
	v := &view{}
	if err := m.readGlobal(ctx, v); err != nil {
		return nil, err
	}
	if node != "" {
		v.node = node
		if err := m.readNode(ctx, v, node); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (m *IPAM) readGlobal(ctx context.Context, v *view) (err error) {
	if v.cfg, err = m.GetIPAMConfig(ctx); err != nil {
		return err
	}
	if v.pools, err = m.listPools(ctx); err != nil {
		return err
	}
	v.res, v.resNames, err = m.listReservations(ctx)
	return err
}

func (m *IPAM) readNode(ctx context.Context, v *view, node string) (err error) {
	if v.labels, err = m.nodeLabels(ctx, node); err != nil {
		return err
	}
	v.affs, err = m.listAffinities(ctx, node)
	return err
}

// node returns the cache entry of a node, creating it. c.mu must be held.
func (c *cache) node(name string) *nodeCache {
	if c.nodes == nil {
		c.nodes = map[string]*nodeCache{}
	}
	n := c.nodes[name]
	if n == nil {
		n = &nodeCache{}
		c.nodes[name] = n
	}
	return n
}

// lastBlock returns a private copy of the block node last wrote, or nil.
func (m *IPAM) lastBlock(node string) *block {
	if m.cache == nil {
		return nil
	}
	m.cache.mu.Lock()
	defer m.cache.mu.Unlock()
	if n := m.cache.nodes[node]; n != nil && n.last != nil {
		return n.last.clone()
	}
	return nil
}

// rememberBlock records b (just written by node, at b.revision) as the
// node's first guess for its next allocation.
func (m *IPAM) rememberBlock(node string, b *block) {
	if m.cache == nil || node == "" {
		return
	}
	cp := b.clone()
	m.cache.mu.Lock()
	m.cache.node(node).last = cp
	m.cache.mu.Unlock()
}

// recordFull notes that node's affine block cidr was just read (after v
// was taken) and found full, so later views may skip it while its
// fingerprint stays what v saw.
func (m *IPAM) recordFull(v *view, node string, cidr netip.Prefix) {
	if m.cache == nil || v == nil {
		return
	}
	fp, ok := v.blockFP[cidr]
	if !ok {
		return
	}
	m.cache.mu.Lock()
	n := m.cache.node(node)
	if n.full == nil {
		n.full = map[netip.Prefix]string{}
	}
	n.full[cidr] = fp
	m.cache.mu.Unlock()
}

// forgetBlock drops node's remembered block if it is cidr (it was found
// gone, or no longer the node's).
func (m *IPAM) forgetBlock(node string, cidr netip.Prefix) {
	if m.cache == nil {
		return
	}
	m.cache.mu.Lock()
	if n := m.cache.nodes[node]; n != nil && n.last != nil && n.last.cidr == cidr {
		n.last = nil
	}
	m.cache.mu.Unlock()
}

// copyAffinities copies the affinity structs, so a request may update its
// own (state, revision) without touching the cache or another request.
func copyAffinities(in []*affinity) []*affinity {
	out := make([]*affinity, len(in))
	for i, a := range in {
		cp := *a
		out[i] = &cp
	}
	return out
}
