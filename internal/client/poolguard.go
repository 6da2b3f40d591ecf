package client

import (
	"context"
	"net/netip"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// checkPoolDelete refuses to delete an IPPool while IPAM blocks remain
// inside its CIDR: the blocks' addresses would fall outside every pool, so
// nothing could route, release or reclaim them cleanly. The refusal lists
// the blocks (ipam.BlocksExistError). Blocks are read from the datastore
// itself, also when planning a batch: no calicoctl batch writes blocks.
func (c *Client) checkPoolDelete(ctx context.Context, res v3.Resource) error {
	p, ok := res.(*v3.IPPool)
	if !ok {
		return nil
	}
	cidr, err := netip.ParsePrefix(p.Spec.CIDR)
	if err != nil {
		// A stored pool with an unreadable CIDR cannot own blocks we can
		// match; let it go rather than make it undeletable.
		return nil
	}
	return ipam.New(c.be, ipam.Options{}).BlocksInPool(ctx, p.Name, cidr.Masked())
}
