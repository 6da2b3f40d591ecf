package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// claimBlock claims cidr for node in Calico's two phases:
//
//  1. write BlockAffinity "<node>-<cidr>" as pending (or reuse ours);
//  2. create the IPAMBlock with affinity "host:<node>" — the atomic step:
//     exactly one creator wins, and the block itself records the owner;
//  3. confirm the affinity.
//
// A client dying after 1 leaves a pending affinity with no block (Check
// reports it, GC removes it, and the same node completes it on its next
// request); after 2, a block whose affinity is pending, which the node
// confirms on its next request. Losing the race in 2 removes our pending
// affinity and returns errBlockClaimConflict.
func (m *IPAM) claimBlock(ctx context.Context, node string, cidr netip.Prefix) (*block, error) {
	a, err := m.pendingAffinity(ctx, node, cidr)
	if err != nil {
		return nil, err
	}
	if err := m.injected(FaultAfterPendingAffinity); err != nil {
		return nil, err
	}
	return m.blockForPendingAffinity(ctx, a)
}

// pendingAffinity creates node's pending affinity for cidr, or returns the
// existing one (marked pending unless it is already confirmed).
func (m *IPAM) pendingAffinity(ctx context.Context, node string, cidr netip.Prefix) (*affinity, error) {
	a, err := m.createAffinity(ctx, node, cidr, affinityPending)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, datastore.ErrAlreadyExists) {
		return nil, fmt.Errorf("claim block %s for node %q: %w", cidr, node, err)
	}
	a, err = m.getAffinity(ctx, node, cidr)
	if err != nil {
		if errors.Is(err, datastore.ErrNotFound) {
			return nil, errStaleRead
		}
		return nil, err
	}
	if a.state() != affinityConfirmed {
		if err := m.updateAffinity(ctx, a, affinityPending); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// blockForPendingAffinity creates the block for a pending affinity and
// confirms it; if the block exists and is ours it only confirms.
func (m *IPAM) blockForPendingAffinity(ctx context.Context, a *affinity) (*block, error) {
	node := a.node()
	b, err := m.createBlock(ctx, &block{cidr: a.cidr, spec: newBlockSpec(a.cidr, node, m.now())})
	if errors.Is(err, datastore.ErrAlreadyExists) {
		b, err = m.getBlock(ctx, a.cidr)
		if errors.Is(err, datastore.ErrNotFound) {
			return nil, errStaleRead
		}
		if err != nil {
			return nil, err
		}
		if !b.affineTo(node) {
			// Another node owns it: withdraw our claim.
			if err := m.deleteAffinity(ctx, a); err != nil && !errors.Is(err, datastore.ErrNotFound) {
				m.log.Warn("ipam: could not remove pending affinity after losing a block race", "node", node, "block", a.cidr.String(), "err", err)
			}
			return nil, errBlockClaimConflict
		}
	} else if err != nil {
		return nil, fmt.Errorf("create ipamblock %q: %w", blockName(a.cidr), err)
	}
	if err := m.injected(FaultAfterBlockClaim); err != nil {
		return nil, err
	}
	if a.state() != affinityConfirmed {
		if err := m.updateAffinity(ctx, a, affinityConfirmed); err != nil {
			return nil, err
		}
		m.log.Info("ipam: claimed block", "node", node, "block", a.cidr.String())
	}
	return b, nil
}

// affineBlock returns the block behind one of node's affinities,
// completing a half-done claim (pending affinity, missing block) and
// removing a stale affinity whose block belongs to someone else.
func (m *IPAM) affineBlock(ctx context.Context, a *affinity) (*block, error) {
	b, err := m.getBlock(ctx, a.cidr)
	if errors.Is(err, datastore.ErrNotFound) {
		if a.state() == affinityPendingDeletion {
			return nil, nil
		}
		if a.state() != affinityPending {
			if err := m.updateAffinity(ctx, a, affinityPending); err != nil {
				return nil, err
			}
		}
		return m.blockForPendingAffinity(ctx, a)
	}
	if err != nil {
		return nil, err
	}
	if !b.affineTo(a.node()) {
		m.log.Warn("ipam: removing stale affinity; the block belongs to another node", "node", a.node(), "block", a.cidr.String(), "blockAffinity", b.affinityNode())
		if err := m.deleteAffinity(ctx, a); err != nil && !errors.Is(err, datastore.ErrNotFound) {
			return nil, err
		}
		return nil, nil
	}
	switch a.state() {
	case affinityConfirmed:
	case affinityPendingDeletion:
		// Being released; do not allocate from it.
		return nil, nil
	default:
		if err := m.updateAffinity(ctx, a, affinityConfirmed); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// releaseAffinity removes node's affinity to a block: an empty block is
// deleted, a non-empty one keeps its allocations but loses its owner (it
// can then only be borrowed from, and GC deletes it once empty). With
// requireEmpty a non-empty block is left alone. seq, when non-nil, aborts
// unless the block still has that sequence number (used when reclaiming
// another node's empty block, so two reclaimers cannot both win).
func (m *IPAM) releaseAffinity(ctx context.Context, a *affinity, requireEmpty bool, seq *uint64) (bool, error) {
	b, err := m.getBlock(ctx, a.cidr)
	if err != nil && !errors.Is(err, datastore.ErrNotFound) {
		return false, err
	}
	if b != nil && !b.affineTo(a.node()) {
		// Stale: the block is not ours, just drop the affinity.
		b = nil
	}
	if b != nil {
		if seq != nil && b.spec.SequenceNumber != *seq {
			return false, errBlockClaimConflict
		}
		b.deallocateExpired(m.now(), m.cooldownFor(ctx))
		if requireEmpty && !b.empty() {
			return false, nil
		}
		if a.state() != affinityPendingDeletion {
			if err := m.updateAffinity(ctx, a, affinityPendingDeletion); err != nil {
				return false, err
			}
		}
		if b.empty() {
			if err := m.deleteBlock(ctx, b); err != nil && !errors.Is(err, datastore.ErrNotFound) {
				return false, err
			}
		} else {
			b.spec.Affinity = nil
			b.spec.AffinityClaimTime = nil
			if err := m.updateBlock(ctx, b); err != nil {
				return false, err
			}
		}
	}
	if err := m.deleteAffinity(ctx, a); err != nil && !errors.Is(err, datastore.ErrNotFound) {
		return false, err
	}
	return true, nil
}

// cooldownFor reads the configured IP cooldown (0 on error: releasing
// without a cooldown is always safe).
func (m *IPAM) cooldownFor(ctx context.Context) (d time.Duration) {
	v, err := m.loadView(ctx, "")
	if err != nil {
		return 0
	}
	return v.cfg.IPCooldown
}
