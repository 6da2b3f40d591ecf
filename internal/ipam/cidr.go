package ipam

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// maxBlockHostBits bounds a block's size (IPv4 /20, IPv6 /116: 4096
// addresses), the range api/v3 validation allows; it keeps the allocations
// array of one block small enough to rewrite on every CAS.
const maxBlockHostBits = 12

// parsePrefix parses a CIDR and returns it masked (network address).
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR; write it as address/prefix-length, e.g. 10.244.0.0/16", s)
	}
	return p.Masked(), nil
}

// family returns 4 or 6.
func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}

// blockFor returns the block of the given prefix length that contains addr.
func blockFor(addr netip.Addr, blockSize int) netip.Prefix {
	p, _ := addr.Unmap().Prefix(blockSize)
	return p
}

// blockLen returns the number of addresses in a block.
func blockLen(block netip.Prefix) int {
	return 1 << (block.Addr().BitLen() - block.Bits())
}

// toInt and fromInt convert between an address and its integer value.
func toInt(a netip.Addr) *big.Int {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b)
}

func fromInt(v *big.Int, bits int) netip.Addr {
	buf := make([]byte, bits/8)
	v.FillBytes(buf)
	a, _ := netip.AddrFromSlice(buf)
	return a
}

// addrAt returns the ordinal-th address of block.
func addrAt(block netip.Prefix, ordinal int) netip.Addr {
	v := toInt(block.Addr())
	v.Add(v, big.NewInt(int64(ordinal)))
	return fromInt(v, block.Addr().BitLen())
}

// ordinalOf returns addr's index in block, or an error if it is outside.
func ordinalOf(block netip.Prefix, addr netip.Addr) (int, error) {
	addr = addr.Unmap()
	if !block.Contains(addr) {
		return 0, fmt.Errorf("address %s is not in block %s", addr, block)
	}
	d := new(big.Int).Sub(toInt(addr), toInt(block.Addr()))
	return int(d.Int64()), nil
}

// blockGenerator walks every block of blockSize in pool exactly once,
// starting at a pseudo-random block seeded by the node name (as Calico does,
// so one node tends to come back to the same region of the pool and nodes
// that start at once spread out instead of racing for block 0).
type blockGenerator struct {
	base      *big.Int
	step      *big.Int
	n         *big.Int
	i         *big.Int
	remaining *big.Int
	bits      int
	blockSize int
}

// newBlockGenerator returns a generator over pool's blocks for node.
func newBlockGenerator(pool netip.Prefix, blockSize int, node string) *blockGenerator {
	bits := pool.Addr().BitLen()
	n := new(big.Int).Lsh(big.NewInt(1), uint(blockSize-pool.Bits()))
	step := new(big.Int).Lsh(big.NewInt(1), uint(bits-blockSize))
	h := fnv.New64a()
	h.Write([]byte(node))
	r := rand.New(rand.NewPCG(h.Sum64(), 0x7269636f6c6f72))
	var start *big.Int
	if n.IsInt64() {
		start = big.NewInt(r.Int64N(n.Int64()))
	} else {
		start = new(big.Int).Mod(new(big.Int).SetUint64(r.Uint64()), n)
	}
	return &blockGenerator{
		base: toInt(pool.Addr()), step: step, n: n, i: start,
		remaining: new(big.Int).Set(n), bits: bits, blockSize: blockSize,
	}
}

// next returns the next block, or false when every block has been returned.
func (g *blockGenerator) next() (netip.Prefix, bool) {
	if g.remaining.Sign() <= 0 {
		return netip.Prefix{}, false
	}
	g.remaining.Sub(g.remaining, big.NewInt(1))
	v := new(big.Int).Mul(g.i, g.step)
	v.Add(v, g.base)
	g.i.Add(g.i, big.NewInt(1))
	if g.i.Cmp(g.n) >= 0 {
		g.i.SetInt64(0)
	}
	return netip.PrefixFrom(fromInt(v, g.bits), g.blockSize), true
}

// cidrToName renders a CIDR as Calico names resources after one:
// "10.244.1.0/26" → "10-244-1-0-26", "fd00::/122" → "fd00---122".
func cidrToName(p netip.Prefix) string {
	n := p.String()
	n = strings.Replace(n, ".", "-", 3)
	n = strings.Replace(n, ":", "-", 7)
	n = strings.Replace(n, "/", "-", 1)
	return n
}

// blockName is the IPAMBlock resource name of a block.
func blockName(block netip.Prefix) string { return cidrToName(block) }

// affinityName is the BlockAffinity name Calico uses for node's affinity to
// block: "<node>-<cidr name>", shortened with a hash when it would exceed
// Kubernetes' 253-character limit.
func affinityName(node string, block netip.Prefix) string {
	cidr := cidrToName(block)
	name := node + "-" + cidr
	if len(name) >= 253 {
		sum := sha256.Sum256([]byte(node + "+" + cidr))
		name = node[:252-len(cidr)-13] + "-" + cidr + "-" + hex.EncodeToString(sum[:])[:11]
	}
	return name
}

// handleName is the IPAMHandle resource name for a handle ID (Kubernetes
// names are lower case; the exact ID is kept in spec.handleID).
func handleName(handleID string) string { return strings.ToLower(handleID) }
