package ipam

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// AssignIPArgs asks for one specific address (CNI ipAddrs annotation,
// calico-node's tunnel address when it is fixed, tests).
type AssignIPArgs struct {
	IP       netip.Addr
	HandleID string
	Attrs    map[string]string
	// Hostname is the node; a block that does not exist yet is claimed for
	// it. Specific addresses ignore strictAffinity, as in Calico.
	Hostname string
}

// AssignIP assigns one specific address. It fails with NotInPoolError,
// ReservedError or InUseError, changing nothing.
func (m *IPAM) AssignIP(ctx context.Context, args AssignIPArgs) (*AssignedIP, error) {
	addr := args.IP.Unmap()
	if !addr.IsValid() {
		return nil, fmt.Errorf("assign IP: no address given; pass the IP to assign")
	}
	v, err := m.loadView(ctx, "")
	if err != nil {
		return nil, err
	}
	p, ok := poolFor(v.pools, addr)
	if !ok || p.disabled {
		return nil, &NotInPoolError{IP: addr}
	}
	for _, r := range v.res {
		if r.Contains(addr) {
			return nil, &ReservedError{IP: addr, Reservation: v.resNames[r], CIDR: r.String()}
		}
	}
	cfg := v.cfg
	attrs := maps.Clone(args.Attrs)
	if attrs == nil {
		attrs = map[string]string{}
	}
	if _, ok := attrs[AttrNode]; !ok && args.Hostname != "" {
		attrs[AttrNode] = args.Hostname
	}
	if _, ok := attrs[AttrTimestamp]; !ok {
		attrs[AttrTimestamp] = m.now().UTC().Format(time.RFC3339Nano)
	}
	cidr := blockFor(addr, p.blockSize)
	var out *AssignedIP
	err = m.retry(ctx, "assign "+addr.String(), func() error {
		b, err := m.getBlock(ctx, cidr)
		if errors.Is(err, datastore.ErrNotFound) {
			if args.Hostname != "" {
				b, err = m.claimBlock(ctx, args.Hostname, cidr)
			} else {
				b, err = m.createBlock(ctx, &block{cidr: cidr, spec: newBlockSpec(cidr, "", m.now())})
			}
		}
		if err != nil {
			return err
		}
		b.deallocateExpired(m.now(), cfg.IPCooldown)
		if err := b.assign(addr, args.HandleID, attrs); err != nil {
			return err
		}
		if err := m.adjustHandle(ctx, args.HandleID, cidr, 1); err != nil {
			return err
		}
		if err := m.updateBlock(ctx, b); err != nil {
			if uerr := m.adjustHandle(ctx, args.HandleID, cidr, -1); uerr != nil {
				m.log.Warn("ipam: could not undo handle count after a failed block write; GC will repair it", "handle", args.HandleID, "err", uerr)
			}
			if errors.Is(err, datastore.ErrNotFound) {
				return errStaleRead
			}
			return err
		}
		o, _ := ordinalOf(cidr, addr)
		out = &AssignedIP{Addr: addr, Block: cidr, Pool: p.name, SequenceNumber: b.seqOf(o),
			Borrowed: args.Hostname != "" && b.spec.Affinity != nil && !b.affineTo(args.Hostname)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Allocation describes one allocated address.
type Allocation struct {
	Addr           netip.Addr
	Block          netip.Prefix
	Handle         string
	Attrs          map[string]string
	SequenceNumber uint64
	// BlockAffinity is the node the block is affine to ("" if none).
	BlockAffinity string
	// Released is set while a released address cools down.
	Released *time.Time
}

// GetAssignmentAttributes returns the allocation holding addr, or an error
// wrapping ErrNoSuchAllocation.
func (m *IPAM) GetAssignmentAttributes(ctx context.Context, addr netip.Addr) (*Allocation, error) {
	addr = addr.Unmap()
	v, err := m.loadView(ctx, "")
	if err != nil {
		return nil, err
	}
	byBlock, _, err := m.groupByBlock(ctx, v.pools, []ReleaseOptions{{Address: addr}})
	if err != nil {
		return nil, err
	}
	for cidr := range byBlock {
		b, err := m.getBlock(ctx, cidr)
		if errors.Is(err, datastore.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		o, _ := ordinalOf(cidr, addr)
		if a := b.attrAt(o); a != nil {
			return b.allocation(o), nil
		}
	}
	return nil, fmt.Errorf("IP %s: %w (it is not allocated)", addr, ErrNoSuchAllocation)
}

// allocation describes ordinal o of b (which must be taken).
func (b *block) allocation(o int) *Allocation {
	a := b.attrAt(o)
	out := &Allocation{Addr: addrAt(b.cidr, o), Block: b.cidr, Attrs: maps.Clone(a.Secondary),
		SequenceNumber: b.seqOf(o), BlockAffinity: b.affinityNode()}
	if a.HandleID != nil {
		out.Handle = *a.HandleID
	}
	if a.ReleasedAt != nil {
		t := a.ReleasedAt.Time
		out.Released = &t
	}
	return out
}
