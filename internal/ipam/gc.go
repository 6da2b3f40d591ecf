package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// GC repairs what Check reports, but only problems that persist: each is
// remembered with the revision it was seen at and acted on once it has
// been seen unchanged for the grace period. That is what keeps GC from
// "repairing" an operation that is merely in flight (a handle written a
// millisecond before its block). Every repair is itself a CAS on the
// revision Check saw, or a release guarded by the allocation's sequence
// number, so GC racing a live client can never free a live address.
type GC struct {
	m     *IPAM
	grace time.Duration
	mu    sync.Mutex
	seen  map[string]time.Time
}

// NewGC returns a collector that acts on problems seen for at least grace
// (0: at once, for tests and `calicoctl ipam check --fix`-style repairs).
func (m *IPAM) NewGC(grace time.Duration) *GC {
	return &GC{m: m, grace: grace, seen: map[string]time.Time{}}
}

// GCResult counts what one GC pass repaired.
type GCResult struct {
	ReleasedIPs            int `json:"releasedIPs"`
	RepairedHandles        int `json:"repairedHandles"`
	RecountedHandles       int `json:"recountedHandles"`
	RemovedAffinities      int `json:"removedAffinities"`
	ReleasedNodeAffinities int `json:"releasedNodeAffinities"`
	DeletedEmptyBlocks     int `json:"deletedEmptyBlocks"`
	// Waiting counts problems seen but still inside their grace period.
	Waiting int `json:"waiting"`
}

// Run checks and repairs once.
func (g *GC) Run(ctx context.Context, opts CheckOptions) (GCResult, error) {
	r, err := g.m.Check(ctx, opts)
	if err != nil {
		return GCResult{}, err
	}
	return g.Repair(ctx, r)
}

// due records key as seen now and reports whether it has been seen for
// the grace period.
func (g *GC) due(key string, now time.Time, live map[string]bool) bool {
	live[key] = true
	first, ok := g.seen[key]
	if !ok {
		g.seen[key] = now
		first = now
	}
	return now.Sub(first) >= g.grace
}

// Repair acts on a report's problems that have outlived the grace period.
func (g *GC) Repair(ctx context.Context, r *Report) (GCResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := g.m
	now := m.now()
	live := map[string]bool{}
	var res GCResult
	var errs []error

	// Leaked addresses: released with handle and sequence number, so an
	// address reassigned since Check is never touched.
	var rel []ReleaseOptions
	for _, a := range r.LeakedIPs {
		if !g.due(fmt.Sprintf("ip/%s/%d/%s", a.Addr, a.SequenceNumber, a.Handle), now, live) {
			res.Waiting++
			continue
		}
		s := a.SequenceNumber
		rel = append(rel, ReleaseOptions{Address: a.Addr, Handle: a.Handle, SequenceNumber: &s})
	}
	if len(rel) > 0 {
		notAlloc, err := m.ReleaseIPs(ctx, rel...)
		if err != nil {
			errs = append(errs, err)
		}
		res.ReleasedIPs = len(rel) - len(notAlloc)
	}

	// Handle counts without allocations: CAS the handle down to the truth.
	for _, p := range r.HandlesWithoutAllocations {
		if !g.due(fmt.Sprintf("handle/%s/%s/%s", p.Handle, p.Block, p.Revision), now, live) {
			res.Waiting++
			continue
		}
		ok, err := m.recountHandle(ctx, p)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			res.RepairedHandles++
		}
	}

	// Allocations whose handle undercounts: raise the count, never release.
	type hb struct {
		h string
		b string
	}
	missing := map[hb]int{}
	for _, a := range r.AllocationsWithoutHandles {
		if a.Handle == "" || !g.due(fmt.Sprintf("nohandle/%s/%d", a.Addr, a.SequenceNumber), now, live) {
			continue
		}
		missing[hb{a.Handle, a.Block.String()}]++
	}
	for k := range missing {
		cidr, _ := parsePrefix(k.b)
		if err := m.syncHandleToBlock(ctx, k.h, cidr); err != nil {
			errs = append(errs, err)
		} else {
			res.RecountedHandles++
		}
	}

	// Stale and duplicate affinities: delete at the revision seen, unless
	// the block really is this node's (then the duplicate is the other).
	for _, p := range r.StaleAffinities {
		if !g.due("aff/"+p.Name+"/"+p.Revision, now, live) {
			res.Waiting++
			continue
		}
		_, err := m.st.Delete(ctx, key(kindBlockAffinity, p.Name), p.Revision)
		switch {
		case err == nil:
			res.RemovedAffinities++
		case errors.Is(err, datastore.ErrNotFound) || errors.Is(err, datastore.ErrConflict):
		default:
			errs = append(errs, err)
		}
	}

	// Blocks of deleted nodes: release the node's affinities (its empty
	// blocks go, the others become unowned and keep their addresses).
	doneNodes := map[string]bool{}
	for _, p := range r.BlocksOfMissingNodes {
		if doneNodes[p.Node] || !g.due("node/"+p.Node+"/"+p.Block.String(), now, live) {
			if !doneNodes[p.Node] {
				res.Waiting++
			}
			continue
		}
		doneNodes[p.Node] = true
		if err := m.ReleaseHostAffinities(ctx, p.Node, false); err != nil {
			errs = append(errs, err)
		}
		// An affinity object may be gone already; clear the block itself.
		if err := m.disownBlocks(ctx, p.Node); err != nil {
			errs = append(errs, err)
		}
		res.ReleasedNodeAffinities++
	}

	// Empty blocks nobody owns.
	for _, p := range r.EmptyUnownedBlocks {
		if !g.due("empty/"+p.Block.String()+"/"+p.Revision, now, live) {
			res.Waiting++
			continue
		}
		_, err := m.st.Delete(ctx, key(kindIPAMBlock, blockName(p.Block)), p.Revision)
		switch {
		case err == nil:
			res.DeletedEmptyBlocks++
		case errors.Is(err, datastore.ErrNotFound) || errors.Is(err, datastore.ErrConflict):
		default:
			errs = append(errs, err)
		}
	}

	for k := range g.seen {
		if !live[k] {
			delete(g.seen, k)
		}
	}
	return res, errors.Join(errs...)
}

// recountHandle sets a handle's count for one block to the live
// allocations, at the revision Check saw (a conflict means the handle is
// in use: leave it for the next pass).
func (m *IPAM) recountHandle(ctx context.Context, p HandleProblem) (bool, error) {
	h, err := m.getHandle(ctx, p.Handle)
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if h.revision != p.Revision {
		return false, nil
	}
	c := p.Block.String()
	if p.Actual <= 0 {
		delete(h.obj.Spec.Block, c)
	} else {
		h.obj.Spec.Block[c] = p.Actual
	}
	if len(h.obj.Spec.Block) == 0 {
		_, err = m.st.Delete(ctx, key(kindIPAMHandle, h.obj.Name), h.revision)
	} else {
		_, err = m.st.Update(ctx, h.kv())
	}
	if errors.Is(err, datastore.ErrConflict) || errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// syncHandleToBlock raises a handle's count for a block to the live
// allocations there, creating the handle if needed.
func (m *IPAM) syncHandleToBlock(ctx context.Context, id string, cidr netip.Prefix) error {
	b, err := m.getBlock(ctx, cidr)
	if err != nil {
		return err
	}
	want := b.handleCounts()[id]
	return m.retry(ctx, "recount ipamhandle "+id, func() error {
		h, err := m.getHandle(ctx, id)
		if errors.Is(err, datastore.ErrNotFound) {
			h = &handle{}
			h.obj.Name = handleName(id)
			h.obj.CreationTimestamp = metav1.NewTime(m.now())
			h.obj.Spec = ipamHandleSpec{HandleID: id, Block: map[string]int{cidr.String(): want}}
			_, err = m.st.Create(ctx, h.kv())
			return err
		}
		if err != nil {
			return err
		}
		if h.obj.Spec.Block[cidr.String()] >= want {
			return nil
		}
		h.obj.Spec.Block[cidr.String()] = want
		_, err = m.st.Update(ctx, h.kv())
		return err
	})
}

// disownBlocks removes node's affinity from blocks that still name it
// (after its BlockAffinity objects are gone), deleting empty ones.
func (m *IPAM) disownBlocks(ctx context.Context, node string) error {
	blocks, err := m.listBlocks(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range blocks {
		if !b.affineTo(node) {
			continue
		}
		cidr := b.cidr
		err := m.retry(ctx, "disown ipamblock "+blockName(cidr), func() error {
			b, err := m.getBlock(ctx, cidr)
			if errors.Is(err, datastore.ErrNotFound) {
				return nil
			}
			if err != nil || !b.affineTo(node) {
				return err
			}
			if b.empty() {
				return m.deleteBlock(ctx, b)
			}
			b.spec.Affinity, b.spec.AffinityClaimTime = nil, nil
			return m.updateBlock(ctx, b)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReleaseEmptyUnownedBlocks deletes every empty block no node owns (CAS).
func (m *IPAM) ReleaseEmptyUnownedBlocks(ctx context.Context) (int, error) {
	blocks, err := m.listBlocks(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range blocks {
		if b.spec.Affinity == nil && b.empty() {
			if err := m.deleteBlock(ctx, b); err == nil {
				n++
			}
		}
	}
	return n, nil
}
