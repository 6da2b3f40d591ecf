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

// ReleaseOptions names one address to release and, optionally, what the
// caller believes holds it. A Handle or SequenceNumber that does not match
// the stored allocation makes the release fail with StaleReleaseError.
type ReleaseOptions struct {
	Address        netip.Addr
	Handle         string
	SequenceNumber *uint64
}

// ReleaseIPs releases addresses. It returns the addresses that held no
// allocation (already free: releasing twice is harmless). All addresses of
// one block are released in one CAS write; a stale option fails that block
// without releasing any of it.
func (m *IPAM) ReleaseIPs(ctx context.Context, opts ...ReleaseOptions) ([]netip.Addr, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	v, err := m.loadView(ctx, "")
	if err != nil {
		return nil, err
	}
	byBlock, notInBlock, err := m.groupByBlock(ctx, v.pools, opts)
	if err != nil {
		return nil, err
	}
	cooldown := v.cfg.IPCooldown
	notAllocated := notInBlock
	var errs []error
	cidrs := slices.SortedFunc(mapsKeys(byBlock), func(a, b netip.Prefix) int { return cmp.Compare(a.String(), b.String()) })
	for _, cidr := range cidrs {
		var r releaseResult
		err := m.retry(ctx, "release from ipamblock "+blockName(cidr), func() error {
			found, err := m.releaseInBlock(ctx, cidr, cooldown, func(b *block) (n int, err error) {
				r, err = b.release(byBlock[cidr], m.now(), cooldown)
				return len(r.released), err
			})
			if err == nil && !found {
				r = releaseResult{}
				for _, o := range byBlock[cidr] {
					r.notAllocated = append(r.notAllocated, o.Address)
				}
			}
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		notAllocated = append(notAllocated, r.notAllocated...)
		for h, n := range r.byHandle {
			if err := m.adjustHandle(ctx, h, cidr, -n); err != nil {
				errs = append(errs, fmt.Errorf("release: update handle %q: %w", h, err))
			}
		}
	}
	return notAllocated, errors.Join(errs...)
}

// releaseInBlock is one attempt at a release from the block at cidr: it
// reads the block (found is false when there is none), frees the ordinals
// whose cooldown has passed, lets release change the block (it returns how
// many addresses it released), and writes the block back with CAS when
// release freed any, deleting it if it is now empty and unowned. A block
// deleted under the attempt makes it fail with errStaleRead (retried).
func (m *IPAM) releaseInBlock(ctx context.Context, cidr netip.Prefix, cooldown time.Duration, release func(*block) (int, error)) (found bool, err error) {
	b, err := m.getBlock(ctx, cidr)
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	b.deallocateExpired(m.now(), cooldown)
	if n, err := release(b); err != nil || n == 0 {
		return true, err
	}
	if err := m.updateBlock(ctx, b); err != nil {
		if errors.Is(err, datastore.ErrNotFound) {
			return true, errStaleRead
		}
		return true, err
	}
	m.dropIfUnowned(ctx, b)
	return true, nil
}

// dropIfUnowned deletes an empty block that no node owns (CAS: a
// concurrent allocation makes the delete fail, which is fine).
func (m *IPAM) dropIfUnowned(ctx context.Context, b *block) {
	if b.spec.Affinity == nil && b.empty() {
		if err := m.deleteBlock(ctx, b); err != nil && !errors.Is(err, datastore.ErrConflict) && !errors.Is(err, datastore.ErrNotFound) {
			m.log.Warn("ipam: could not delete empty unowned block", "block", b.cidr.String(), "err", err)
		}
	}
}

// groupByBlock maps each address to the block that holds it, using the
// pools' block sizes and falling back to the stored blocks for addresses
// outside every pool (a pool deleted under its blocks).
func (m *IPAM) groupByBlock(ctx context.Context, pools []pool, opts []ReleaseOptions) (map[netip.Prefix][]ReleaseOptions, []netip.Addr, error) {
	var err error
	out := map[netip.Prefix][]ReleaseOptions{}
	var blocks []*block
	var missing []netip.Addr
	for _, o := range opts {
		o.Address = o.Address.Unmap()
		if !o.Address.IsValid() {
			return nil, nil, fmt.Errorf("release: an empty address was given; pass the IP to release")
		}
		if p, ok := poolFor(pools, o.Address); ok {
			c := blockFor(o.Address, p.blockSize)
			out[c] = append(out[c], o)
			continue
		}
		if blocks == nil {
			if blocks, err = m.listBlocks(ctx); err != nil {
				return nil, nil, err
			}
		}
		found := false
		for _, b := range blocks {
			if b.cidr.Contains(o.Address) {
				out[b.cidr] = append(out[b.cidr], o)
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, o.Address)
		}
	}
	return out, missing, nil
}

// ReleaseByHandle releases every address of a handle and deletes the
// handle. It returns the released addresses; a handle that does not exist
// returns an error wrapping ErrNoSuchAllocation.
func (m *IPAM) ReleaseByHandle(ctx context.Context, handleID string) ([]netip.Addr, error) {
	h, err := m.getHandle(ctx, handleID)
	if errors.Is(err, datastore.ErrNotFound) {
		return nil, fmt.Errorf("ipamhandle %q: %w; nothing to release", handleID, ErrNoSuchAllocation)
	}
	if err != nil {
		return nil, err
	}
	cooldown := m.cooldownFor(ctx)
	var out []netip.Addr
	var errs []error
	known := h    // the handle as read, for the first count update
	gone := false // the last count update deleted the handle
	for c := range h.obj.Spec.Block {
		cidr, err := parsePrefix(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("ipamhandle %q: spec.block key: %v", handleID, err))
			continue
		}
		var got []netip.Addr
		err = m.retry(ctx, "release handle from ipamblock "+blockName(cidr), func() error {
			got = nil
			_, err := m.releaseInBlock(ctx, cidr, cooldown, func(b *block) (int, error) {
				got = b.releaseByHandle(handleID, nil, m.now(), cooldown)
				return len(got), nil
			})
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, got...)
		if len(got) == 0 {
			continue
		}
		deleted, err := m.adjustKnownHandle(ctx, handleID, cidr, -len(got), known)
		known, gone = nil, deleted
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && !gone {
		// Whatever count is left was never backed by an allocation (a
		// client died between the two writes): drop the handle, CAS so a
		// concurrent allocation under the same handle keeps it.
		if h, err := m.getHandle(ctx, handleID); err == nil {
			if _, err := m.st.Delete(ctx, key(kindIPAMHandle, h.obj.Name), h.revision); err != nil && !errors.Is(err, datastore.ErrNotFound) && !errors.Is(err, datastore.ErrConflict) {
				errs = append(errs, err)
			}
		}
	}
	return out, errors.Join(errs...)
}

// IPsByHandle returns the live addresses of a handle.
func (m *IPAM) IPsByHandle(ctx context.Context, handleID string) ([]netip.Addr, error) {
	h, err := m.getHandle(ctx, handleID)
	if errors.Is(err, datastore.ErrNotFound) {
		return nil, fmt.Errorf("ipamhandle %q: %w", handleID, ErrNoSuchAllocation)
	}
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for c := range h.obj.Spec.Block {
		cidr, err := parsePrefix(c)
		if err != nil {
			continue
		}
		b, err := m.getBlock(ctx, cidr)
		if errors.Is(err, datastore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for o := range b.spec.Allocations {
			if a := b.attrAt(o); a != nil && a.ReleasedAt == nil && ptrEq(a.HandleID, handleID) {
				out = append(out, addrAt(b.cidr, o))
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
