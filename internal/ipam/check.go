package ipam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// CheckOptions says how Check decides that owners are gone.
type CheckOptions struct {
	// OwnerExists reports whether the owner of an allocation (its pod, or
	// its node for a tunnel address) still exists. Nil skips the leaked-IP
	// check: without it an allocation cannot be told from a live one.
	OwnerExists func(ctx context.Context, a Allocation) (bool, error)
	// NodeExists reports whether a node exists; nil reads Node resources
	// from the datastore.
	NodeExists func(ctx context.Context, node string) (bool, error)
}

// Report is what Check found. Every list is sorted; an empty report
// (OK()) means the datastore is consistent.
type Report struct {
	Time        time.Time `json:"time"`
	Blocks      int       `json:"blocks"`
	Allocations int       `json:"allocations"`
	Handles     int       `json:"handles"`
	Affinities  int       `json:"affinities"`

	// LeakedIPs are allocations whose owner no longer exists.
	LeakedIPs []Allocation `json:"leakedIPs"`
	// HandlesWithoutAllocations are handle counts not backed by
	// allocations (a client died between writing the handle and the block).
	HandlesWithoutAllocations []HandleProblem `json:"handlesWithoutAllocations"`
	// AllocationsWithoutHandles are allocations whose handle is missing or
	// counts fewer addresses in that block.
	AllocationsWithoutHandles []Allocation `json:"allocationsWithoutHandles"`
	// BlocksOfMissingNodes are blocks affine to a node that does not exist.
	BlocksOfMissingNodes []BlockProblem `json:"blocksOfMissingNodes"`
	// DuplicateAffinities are blocks claimed by more than one affinity.
	DuplicateAffinities []AffinityProblem `json:"duplicateAffinities"`
	// StaleAffinities are affinities with no block behind them (a claim
	// that never finished) or whose block belongs to another node.
	StaleAffinities []AffinityProblem `json:"staleAffinities"`
	// EmptyUnownedBlocks are empty blocks no node owns (GC deletes them).
	EmptyUnownedBlocks []BlockProblem `json:"emptyUnownedBlocks"`
}

// HandleProblem is one handle count that disagrees with the blocks.
type HandleProblem struct {
	Handle   string       `json:"handle"`
	Block    netip.Prefix `json:"block"`
	Counted  int          `json:"counted"`
	Actual   int          `json:"actual"`
	Revision string       `json:"-"`
}

// BlockProblem names a block and its owner.
type BlockProblem struct {
	Block    netip.Prefix `json:"block"`
	Node     string       `json:"node,omitempty"`
	InUse    int          `json:"inUse"`
	Revision string       `json:"-"`
}

// AffinityProblem names an affinity.
type AffinityProblem struct {
	Name     string       `json:"name"`
	Block    netip.Prefix `json:"block"`
	Node     string       `json:"node"`
	State    string       `json:"state"`
	Detail   string       `json:"detail"`
	Revision string       `json:"-"`
}

// Problems counts everything the report lists.
func (r *Report) Problems() int {
	return len(r.LeakedIPs) + len(r.HandlesWithoutAllocations) + len(r.AllocationsWithoutHandles) +
		len(r.BlocksOfMissingNodes) + len(r.DuplicateAffinities) + len(r.StaleAffinities) + len(r.EmptyUnownedBlocks)
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool { return r.Problems() == 0 }

// Check reads every block, handle and affinity once and reports
// inconsistencies. It changes nothing; GC repairs what it reports. Each
// object is read at its own revision, so an operation in flight can show
// up as a problem for an instant: GC only acts on problems that persist
// for its grace period.
func (m *IPAM) Check(ctx context.Context, opts CheckOptions) (*Report, error) {
	r := &Report{Time: m.now()}
	// Handles are read before blocks: an allocation finishing in between
	// then shows as a handle count that is (briefly) ahead, the harmless
	// direction, never as an allocation without a handle.
	handles, err := m.listHandles(ctx)
	if err != nil {
		return nil, err
	}
	blocks, err := m.listBlocks(ctx)
	if err != nil {
		return nil, err
	}
	affs, err := m.listAffinities(ctx, "")
	if err != nil {
		return nil, err
	}
	r.Blocks, r.Handles, r.Affinities = len(blocks), len(handles), len(affs)
	nodeExists := opts.NodeExists
	if nodeExists == nil {
		nodeExists = m.nodeInStore
	}

	byCIDR := map[netip.Prefix]*block{}
	actual := map[string]map[netip.Prefix]int{} // handle → block → live allocations
	allocsOf := map[string]map[netip.Prefix][]Allocation{}
	for _, b := range blocks {
		byCIDR[b.cidr] = b
		for o := range b.spec.Allocations {
			a := b.attrAt(o)
			if a == nil || a.ReleasedAt != nil {
				continue
			}
			r.Allocations++
			al := *b.allocation(o)
			if actual[al.Handle] == nil {
				actual[al.Handle] = map[netip.Prefix]int{}
				allocsOf[al.Handle] = map[netip.Prefix][]Allocation{}
			}
			actual[al.Handle][b.cidr]++
			allocsOf[al.Handle][b.cidr] = append(allocsOf[al.Handle][b.cidr], al)
			if opts.OwnerExists != nil {
				ok, err := opts.OwnerExists(ctx, al)
				if err != nil {
					return nil, fmt.Errorf("check owner of %s: %w", al.Addr, err)
				}
				if !ok {
					r.LeakedIPs = append(r.LeakedIPs, al)
				}
			}
		}
		if owner := b.affinityNode(); owner != "" {
			ok, err := nodeExists(ctx, owner)
			if err != nil {
				return nil, err
			}
			if !ok {
				r.BlocksOfMissingNodes = append(r.BlocksOfMissingNodes, BlockProblem{Block: b.cidr, Node: owner, InUse: b.inUse(), Revision: b.revision})
			}
		} else if b.empty() {
			r.EmptyUnownedBlocks = append(r.EmptyUnownedBlocks, BlockProblem{Block: b.cidr, Revision: b.revision})
		}
	}

	// Handles against blocks.
	counted := map[string]map[netip.Prefix]int{}
	for _, h := range handles {
		id := h.obj.Spec.HandleID
		counted[id] = map[netip.Prefix]int{}
		for c, n := range h.obj.Spec.Block {
			cidr, err := parsePrefix(c)
			if err != nil {
				continue
			}
			counted[id][cidr] = n
			if got := actual[id][cidr]; n > got {
				r.HandlesWithoutAllocations = append(r.HandlesWithoutAllocations, HandleProblem{Handle: id, Block: cidr, Counted: n, Actual: got, Revision: h.revision})
			}
		}
	}
	for id, per := range actual {
		for cidr, n := range per {
			if id == "" || counted[id][cidr] < n {
				r.AllocationsWithoutHandles = append(r.AllocationsWithoutHandles, allocsOf[id][cidr]...)
			}
		}
	}

	// Affinities against blocks and each other.
	byBlock := map[netip.Prefix][]*affinity{}
	for _, a := range affs {
		byBlock[a.cidr] = append(byBlock[a.cidr], a)
		p := AffinityProblem{Name: a.obj.Name, Block: a.cidr, Node: a.node(), State: a.state(), Revision: a.revision}
		b := byCIDR[a.cidr]
		switch {
		case b == nil:
			p.Detail = "no block exists for this affinity (an unfinished claim)"
			r.StaleAffinities = append(r.StaleAffinities, p)
		case !b.affineTo(a.node()):
			p.Detail = fmt.Sprintf("the block is affine to %q", b.affinityNode())
			r.StaleAffinities = append(r.StaleAffinities, p)
		}
	}
	for cidr, as := range byBlock {
		if len(as) < 2 {
			continue
		}
		for _, a := range as {
			r.DuplicateAffinities = append(r.DuplicateAffinities, AffinityProblem{Name: a.obj.Name, Block: cidr, Node: a.node(), State: a.state(),
				Detail: fmt.Sprintf("%d affinities claim this block", len(as)), Revision: a.revision})
		}
	}
	r.sort()
	return r, nil
}

func (r *Report) sort() {
	byAddr := func(a, b Allocation) int { return a.Addr.Compare(b.Addr) }
	slices.SortFunc(r.LeakedIPs, byAddr)
	slices.SortFunc(r.AllocationsWithoutHandles, byAddr)
	slices.SortFunc(r.HandlesWithoutAllocations, func(a, b HandleProblem) int {
		return cmp.Or(cmp.Compare(a.Handle, b.Handle), cmp.Compare(a.Block.String(), b.Block.String()))
	})
	blk := func(a, b BlockProblem) int { return a.Block.Addr().Compare(b.Block.Addr()) }
	slices.SortFunc(r.BlocksOfMissingNodes, blk)
	slices.SortFunc(r.EmptyUnownedBlocks, blk)
	aff := func(a, b AffinityProblem) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(r.DuplicateAffinities, aff)
	slices.SortFunc(r.StaleAffinities, aff)
}

// nodeInStore reports whether a Node resource exists.
func (m *IPAM) nodeInStore(ctx context.Context, node string) (bool, error) {
	_, err := m.st.Get(ctx, datastore.Key{Kind: kindNode, Name: node})
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
