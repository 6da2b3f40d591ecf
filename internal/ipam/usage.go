package ipam

import (
	"context"
	"math/big"
	"net/netip"
	"slices"
)

// UsageReport is what `calicoctl ipam show` prints: per pool and per
// block, how many addresses exist and how many are in use, and which
// addresses are borrowed.
type UsageReport struct {
	Pools    []PoolUsage  `json:"pools"`
	Blocks   []BlockUsage `json:"blocks"`
	Borrowed []Borrowed   `json:"borrowed"`
}

// PoolUsage is one pool's usage.
type PoolUsage struct {
	Name     string       `json:"name"`
	CIDR     netip.Prefix `json:"cidr"`
	Disabled bool         `json:"disabled"`
	// Size is the number of addresses (a decimal string: IPv6 pools
	// overflow 64 bits).
	Size  string `json:"size"`
	InUse int    `json:"inUse"`
	// size is Size as a number.
	size *big.Int
}

// SizeInt returns the pool size as a big integer.
func (p PoolUsage) SizeInt() *big.Int { return new(big.Int).Set(p.size) }

// BlockUsage is one block's usage.
type BlockUsage struct {
	CIDR  netip.Prefix `json:"cidr"`
	Pool  string       `json:"pool"`
	Node  string       `json:"node"`
	Size  int          `json:"size"`
	InUse int          `json:"inUse"`
}

// Borrowed is an address allocated to one node from a block affine to
// another.
type Borrowed struct {
	Addr          netip.Addr        `json:"addr"`
	BorrowingNode string            `json:"borrowingNode"`
	Block         netip.Prefix      `json:"block"`
	BlockOwner    string            `json:"blockOwner"`
	Handle        string            `json:"handle"`
	Attrs         map[string]string `json:"attrs"`
}

// InUse sums the blocks' in-use addresses.
func (u *UsageReport) InUse() int {
	n := 0
	for _, b := range u.Blocks {
		n += b.InUse
	}
	return n
}

// BlockCapacity sums the blocks' sizes (addresses carved out of pools).
func (u *UsageReport) BlockCapacity() int {
	n := 0
	for _, b := range u.Blocks {
		n += b.Size
	}
	return n
}

// Usage reads pools and blocks and reports their use.
func (m *IPAM) Usage(ctx context.Context) (*UsageReport, error) {
	pools, err := m.listPools(ctx)
	if err != nil {
		return nil, err
	}
	blocks, err := m.listBlocks(ctx)
	if err != nil {
		return nil, err
	}
	u := &UsageReport{}
	idx := map[string]int{}
	for _, p := range pools {
		size := new(big.Int).Lsh(big.NewInt(1), uint(p.cidr.Addr().BitLen()-p.cidr.Bits()))
		idx[p.name] = len(u.Pools)
		u.Pools = append(u.Pools, PoolUsage{Name: p.name, CIDR: p.cidr, Disabled: p.disabled, Size: size.String(), size: size})
	}
	for _, b := range blocks {
		bu := BlockUsage{CIDR: b.cidr, Node: b.affinityNode(), Size: blockLen(b.cidr), InUse: b.inUse()}
		if p, ok := poolFor(pools, b.cidr.Addr()); ok {
			bu.Pool = p.name
			u.Pools[idx[p.name]].InUse += bu.InUse
		}
		u.Blocks = append(u.Blocks, bu)
		owner := b.affinityNode()
		for o := range b.spec.Allocations {
			if !b.active(o) {
				continue
			}
			al := b.allocation(o)
			if n := al.Attrs[AttrNode]; n != "" && n != owner {
				u.Borrowed = append(u.Borrowed, Borrowed{Addr: al.Addr, BorrowingNode: n, Block: b.cidr, BlockOwner: owner, Handle: al.Handle, Attrs: al.Attrs})
			}
		}
	}
	slices.SortFunc(u.Blocks, func(a, b BlockUsage) int { return a.CIDR.Addr().Compare(b.CIDR.Addr()) })
	slices.SortFunc(u.Borrowed, func(a, b Borrowed) int { return a.Addr.Compare(b.Addr) })
	return u, nil
}
