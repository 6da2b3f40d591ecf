package ctl

import (
	"context"
	"fmt"
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamSplitCommand builds `ipam split <NUMBER> [--cidr=<CIDR>]
// [--name=<POOL_NAME>]`.
func (a *app) ipamSplitCommand() *cobra.Command {
	var cidr, name string
	cmd := &cobra.Command{
		Use:   "split <NUMBER> [--cidr=<CIDR>] [--name=<POOL_NAME>]",
		Short: "Split an IP pool into a power-of-2 number of equal smaller pools",
		Long: `Split the IP pool given by --cidr or --name into <NUMBER> (a power of 2) smaller
pools of equal size, named split-<pool>-<i>. Existing blocks and allocations stay
where they are: every block falls inside one of the new pools.

No address may be allocated from the pool while it is split, so either disable
the pool first (spec.disabled: true) or lock the data store (ClusterInformation
default spec.datastoreReady: false, what 'calicoctl datastore migrate lock' does).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("error reading number to split IP pools into. %s is not a valid number: %v", args[0], err)
			}
			if cidr == "" && name == "" {
				return fmt.Errorf("no name or CIDR provided. Provide a name (--name) or CIDR (--cidr) to denote the IP pool to split")
			}
			return a.withIPAM(cmd.Context(), func(c *client.Client, _ *ipam.IPAM) error {
				return a.splitPool(cmd.Context(), c, cidr, name, n)
			})
		},
	}
	cmd.Flags().StringVar(&cidr, "cidr", "", "CIDR of the IP pool to split")
	cmd.Flags().StringVar(&name, "name", "", "name of the IP pool to split")
	return cmd
}

// splitPool replaces pool old by n child pools. The children are checked
// as one batch before anything is written; a failure while writing them
// removes those already created, so the pool is split completely or not
// at all. The old pool goes last, with a CAS delete that bypasses the
// blocks guard on purpose (as Calico's UnsafeDelete): its blocks now lie
// inside the children.
func (a *app) splitPool(ctx context.Context, c *client.Client, cidr, name string, n int) error {
	old, err := findPool(ctx, c, cidr, name)
	if err != nil {
		return err
	}
	locked, err := datastoreLocked(ctx, c)
	if err != nil {
		return err
	}
	if !old.Spec.Disabled && !locked {
		return fmt.Errorf("ippool %q is enabled and the data store is not locked, so addresses could be allocated from it while it is split; "+
			"disable it first (calicoctl patch ippool %s -p '{\"spec\":{\"disabled\":true}}') or lock the data store", old.Name, old.Name)
	}
	prefix, err := netip.ParsePrefix(old.Spec.CIDR)
	if err != nil {
		return fmt.Errorf("ippool %q: spec.cidr %q: %v", old.Name, old.Spec.CIDR, err)
	}
	parts, err := splitPrefix(prefix.Masked(), n, old.Spec.BlockSize)
	if err != nil {
		return fmt.Errorf("error splitting the CIDR %s of ippool %q into %d CIDRs: %w", old.Spec.CIDR, old.Name, n, err)
	}

	children := make([]*v3.IPPool, len(parts))
	ops := make([]client.Op, len(parts))
	for i, p := range parts {
		ch := old.DeepCopy()
		ch.ObjectMeta = metav1.ObjectMeta{Name: splitName(old.Name, i), Labels: old.Labels, Annotations: old.Annotations}
		ch.Spec.CIDR, ch.Spec.Disabled = p.String(), false
		children[i] = ch
		ops[i] = client.Op{Action: client.ActionCreate, Resource: ch}
	}
	wasEnabled := !old.Spec.Disabled
	if wasEnabled {
		// Locked data store: disable the pool so its children may overlap it.
		dis := old.DeepCopy()
		dis.Spec.Disabled = true
		res, err := c.Update(ctx, dis)
		if err != nil {
			return fmt.Errorf("error disabling IP pool %s: %w", old.Name, err)
		}
		old = res.(*v3.IPPool)
	}
	undo := func(created []*v3.IPPool) {
		for _, ch := range created {
			_, _ = c.Delete(ctx, v3.KindIPPool, "", ch.Name, ch.ResourceVersion)
		}
		if wasEnabled {
			en := old.DeepCopy()
			en.Spec.Disabled = false
			_, _ = c.Update(ctx, en)
		}
	}
	for i, err := range c.Plan(ctx, ops) {
		if err != nil {
			undo(nil)
			return fmt.Errorf("cannot create split pool %s (%s); nothing was changed: %w", children[i].Name, children[i].Spec.CIDR, err)
		}
	}
	var created []*v3.IPPool
	for _, ch := range children {
		res, err := c.Create(ctx, ch)
		if err != nil {
			undo(created)
			return fmt.Errorf("error creating split pool %s with cidr %s; the split was undone: %w", ch.Name, ch.Spec.CIDR, err)
		}
		created = append(created, res.(*v3.IPPool))
	}
	if _, err := c.Backend().Delete(ctx, datastore.Key{Kind: v3.KindIPPool, Name: old.Name}, old.ResourceVersion); err != nil {
		undo(created)
		return fmt.Errorf("error removing the IP pool that was split %s (it changed meanwhile?); the split was undone: %w", old.Name, err)
	}

	out := a.opts.Stdout
	fmt.Fprintf(out, "IP Pool %s was successfully split into %d smaller pools.\n", old.Name, n)
	for _, ch := range created {
		fmt.Fprintf(out, "Created %s with CIDR %s.\n", ch.Name, ch.Spec.CIDR)
	}
	if locked {
		fmt.Fprintln(out, "Unlock the data store to resume IP address management.")
	}
	return nil
}

// findPool finds the pool to split by name, or by CIDR (compared as
// prefixes, so 10.0.0.0/16 matches however it is written).
func findPool(ctx context.Context, c *client.Client, cidr, name string) (*v3.IPPool, error) {
	if name != "" {
		p, err := client.Get[*v3.IPPool](ctx, c, "", name)
		if err != nil {
			return nil, fmt.Errorf("unable to find IP pool with name %s: %w", name, err)
		}
		if cidr != "" && !samePrefix(p.Spec.CIDR, cidr) {
			return nil, fmt.Errorf("ippool %q has CIDR %s, not %s; give only --name or only --cidr", name, p.Spec.CIDR, cidr)
		}
		return p, nil
	}
	want, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("invalid --cidr %q: %v; give the pool's CIDR, e.g. --cidr=10.244.0.0/16", cidr, err)
	}
	pools, _, err := client.List[*v3.IPPool](ctx, c, "")
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		if samePrefix(p.Spec.CIDR, want.String()) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("unable to find an IP pool with CIDR %s; list them with calicoctl get ippools", cidr)
}

func samePrefix(a, b string) bool {
	pa, errA := netip.ParsePrefix(a)
	pb, errB := netip.ParsePrefix(b)
	return errA == nil && errB == nil && pa.Masked() == pb.Masked()
}

// datastoreLocked reports whether ClusterInformation "default" says the
// data store is not ready (locked for maintenance).
func datastoreLocked(ctx context.Context, c *client.Client) (bool, error) {
	ci, err := client.Get[*v3.ClusterInformation](ctx, c, "", v3.ClusterInformationName)
	if client.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ci.Spec.DatastoreReady != nil && !*ci.Spec.DatastoreReady, nil
}

// splitName is Calico's child pool name, kept within the 253-character
// name limit.
func splitName(pool string, i int) string {
	if len(pool) > 245 {
		pool = pool[:245]
	}
	return fmt.Sprintf("split-%s-%d", pool, i)
}

// splitPrefix cuts p into n equal prefixes (n a power of 2, at least 2).
// Each must still hold whole blocks of blockSize, so no block straddles
// two pools.
func splitPrefix(p netip.Prefix, n, blockSize int) ([]netip.Prefix, error) {
	if n < 2 || n&(n-1) != 0 {
		return nil, fmt.Errorf("number to split CIDR into is not a valid power of 2: %d", n)
	}
	childBits := p.Bits() + bits.TrailingZeros(uint(n))
	if childBits > p.Addr().BitLen() {
		return nil, fmt.Errorf("the CIDR %s is not large enough to be split into %d parts", p, n)
	}
	if blockSize > 0 && childBits > blockSize {
		return nil, fmt.Errorf("the CIDR %s split into %d parts gives /%d pools, smaller than the pool's /%d blocks; split into at most 2^%d parts",
			p, n, childBits, blockSize, blockSize-p.Bits())
	}
	step := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-childBits))
	cur := new(big.Int).SetBytes(p.Addr().AsSlice())
	out := make([]netip.Prefix, n)
	for i := range out {
		b := cur.FillBytes(make([]byte, p.Addr().BitLen()/8))
		addr, _ := netip.AddrFromSlice(b)
		out[i] = netip.PrefixFrom(addr, childBits)
		cur.Add(cur, step)
	}
	return out, nil
}
