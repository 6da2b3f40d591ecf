package routeinput

import (
	"iter"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// Kinds selects which calc updates an Input records; the others are left to
// the manager (Record reports false for them), so a manager is not made
// dirty by updates it has no use for.
type Kinds uint8

const (
	// VTEPs records VTEPUpdate and VTEPRemove, keyed by node.
	VTEPs Kinds = 1 << iota
	// Routes records RouteUpdate and RouteRemove (block routes), keyed by
	// destination CIDR as the calc graph keys them.
	Routes
	// Pools records IPPoolUpdate and IPPoolRemove, keyed by pool name.
	Pools
	// Config records ConfigUpdate (the effective FelixConfiguration).
	Config
	// InSync records the calc graph's InSync.
	InSync
)

// Input is what one route manager has recorded from calc updates, and
// whether the kernel needs a reconcile. It is not safe for concurrent use:
// like the managers, it is driven from Felix's one loop goroutine.
type Input struct {
	node   string
	kinds  Kinds
	vteps  map[string]calc.VTEP  // by node
	routes map[string]calc.Route // by Dst
	pools  map[string]calc.Pool  // by name
	config *v3.FelixConfigurationSpec
	inSync bool
	dirty  bool
}

// New returns an empty Input for the manager of node that records the
// given kinds of update. node may be empty for a manager that asks nothing
// relative to its node (no LocalVTEP, RemoteVTEPs or blocks).
func New(node string, kinds Kinds) *Input {
	return &Input{node: node, kinds: kinds,
		vteps: map[string]calc.VTEP{}, routes: map[string]calc.Route{}, pools: map[string]calc.Pool{}}
}

// Record stores u when it is of a kind this Input records, marks the input
// dirty and returns true; other updates are ignored (false). An update
// equal to what is stored still counts as a change, as Felix's managers
// have always treated it.
func (in *Input) Record(u calc.Update) bool {
	switch u := u.(type) {
	case calc.VTEPUpdate:
		return in.apply(VTEPs, func() { in.vteps[u.VTEP.Node] = u.VTEP })
	case calc.VTEPRemove:
		return in.apply(VTEPs, func() { delete(in.vteps, u.Node) })
	case calc.RouteUpdate:
		return in.apply(Routes, func() { in.routes[u.Route.Dst] = u.Route })
	case calc.RouteRemove:
		return in.apply(Routes, func() { delete(in.routes, u.Dst) })
	case calc.IPPoolUpdate:
		return in.apply(Pools, func() { in.pools[u.Name] = u.Pool })
	case calc.IPPoolRemove:
		return in.apply(Pools, func() { delete(in.pools, u.Name) })
	case calc.ConfigUpdate:
		return in.apply(Config, func() { in.config = u.Config })
	case calc.InSync:
		return in.apply(InSync, func() { in.inSync = true })
	}
	return false
}

// apply runs store and marks the input dirty when kind is recorded.
func (in *Input) apply(kind Kinds, store func()) bool {
	if in.kinds&kind == 0 {
		return false
	}
	store()
	in.dirty = true
	return true
}

// Node is the node this input is for.
func (in *Input) Node() string { return in.node }

// LocalVTEP returns this node's VTEP, if the calc graph has sent one.
func (in *Input) LocalVTEP() (calc.VTEP, bool) {
	v, ok := in.vteps[in.node]
	return v, ok
}

// RemoteVTEPs yields the other nodes' VTEPs, in no particular order.
func (in *Input) RemoteVTEPs() iter.Seq[calc.VTEP] {
	return func(yield func(calc.VTEP) bool) {
		for node, v := range in.vteps {
			if node != in.node && !yield(v) {
				return
			}
		}
	}
}

// RemoteBlocks yields the routes to blocks affine to other nodes
// (RouteRemoteBlock), in no particular order.
func (in *Input) RemoteBlocks() iter.Seq[calc.Route] {
	return in.blocks(func(r calc.Route) bool { return r.Type == calc.RouteRemoteBlock && r.Node != in.node })
}

// LocalBlocks yields the routes to blocks affine to this node
// (RouteLocalBlock), in no particular order.
func (in *Input) LocalBlocks() iter.Seq[calc.Route] {
	return in.blocks(func(r calc.Route) bool { return r.Type == calc.RouteLocalBlock && r.Node == in.node })
}

func (in *Input) blocks(keep func(calc.Route) bool) iter.Seq[calc.Route] {
	return func(yield func(calc.Route) bool) {
		for _, r := range in.routes {
			if keep(r) && !yield(r) {
				return
			}
		}
	}
}

// AnyPool reports whether some recorded IP pool satisfies uses (disabled
// pools included: their workloads remain).
func (in *Input) AnyPool(uses func(calc.Pool) bool) bool {
	for _, p := range in.pools {
		if uses(p) {
			return true
		}
	}
	return false
}

// Config returns the effective FelixConfiguration last sent (nil: none
// yet, or none exists). Callers must not modify it.
func (in *Input) Config() *v3.FelixConfigurationSpec { return in.config }

// InSync reports whether the calc graph has said it is in sync: from then
// on a manager may remove kernel state no input mentions.
func (in *Input) InSync() bool { return in.inSync }
