package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// ReleaseAffinity removes node's affinity to block. Empty blocks are
// deleted; with mustBeEmpty a block still holding addresses is left as it
// is (and the call reports false), otherwise it keeps its addresses and
// loses its owner.
func (m *IPAM) ReleaseAffinity(ctx context.Context, cidr netip.Prefix, node string, mustBeEmpty bool) (bool, error) {
	if node == "" {
		return false, fmt.Errorf("release affinity of block %s: node is empty; say which node's affinity to release", cidr)
	}
	var done bool
	err := m.retry(ctx, "release affinity "+affinityName(node, cidr), func() error {
		a, err := m.getAffinity(ctx, node, cidr.Masked())
		if errors.Is(err, datastore.ErrNotFound) {
			done = false
			return nil
		}
		if err != nil {
			return err
		}
		done, err = m.releaseAffinity(ctx, a, mustBeEmpty, nil)
		if errors.Is(err, datastore.ErrNotFound) {
			return errStaleRead
		}
		return err
	})
	return done, err
}

// ReleaseHostAffinities releases every block affinity of node (see
// ReleaseAffinity). With mustBeEmpty, blocks that still hold addresses keep
// their affinity.
func (m *IPAM) ReleaseHostAffinities(ctx context.Context, node string, mustBeEmpty bool) error {
	if node == "" {
		return fmt.Errorf("release host affinities: node is empty; say which node")
	}
	affs, err := m.listAffinities(ctx, node)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range affs {
		if _, err := m.ReleaseAffinity(ctx, a.cidr, node, mustBeEmpty); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RemoveIPAMHost forgets a node: all its affinities are released, so its
// empty blocks are deleted and blocks still holding addresses become
// unowned (their addresses stay valid until released).
func (m *IPAM) RemoveIPAMHost(ctx context.Context, node string) error {
	return m.ReleaseHostAffinities(ctx, node, false)
}

// BlocksInPool lists the blocks inside cidr, for refusing to delete a pool
// that still has them (internal/client calls this).
func (m *IPAM) BlocksInPool(ctx context.Context, poolName string, cidr netip.Prefix) error {
	blocks, err := m.listBlocks(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, b := range blocks {
		if cidr.Overlaps(b.cidr) {
			names = append(names, b.cidr.String())
		}
	}
	if len(names) > 0 {
		return &BlocksExistError{Pool: poolName, Blocks: names}
	}
	return nil
}
