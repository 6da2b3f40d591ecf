package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamShowCommand builds `ipam show [--ip=<IP> | --show-blocks |
// --show-borrowed | --show-configuration]`. Without a flag it prints one
// usage row per pool.
func (a *app) ipamShowCommand() *cobra.Command {
	var ip string
	var blocks, borrowed, configuration bool
	cmd := &cobra.Command{
		Use:   "show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration]",
		Short: "Show details of a Calico assigned IP address, or of overall IP usage",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, set := range []bool{ip != "", blocks, borrowed, configuration} {
				if set {
					n++
				}
			}
			if n > 1 {
				return fmt.Errorf("give at most one of --ip, --show-blocks, --show-borrowed and --show-configuration")
			}
			var addr netip.Addr
			if ip != "" {
				var err error
				if addr, err = parseIPFlag(ip); err != nil {
					return err
				}
			}
			w := a.opts.Stdout
			return a.withIPAM(cmd.Context(), func(_ *client.Client, m *ipam.IPAM) error {
				ctx := cmd.Context()
				switch {
				case ip != "":
					return showIP(ctx, w, m, addr)
				case borrowed:
					return showBorrowed(ctx, w, m)
				case configuration:
					return showConfiguration(ctx, w, m)
				}
				return showUsage(ctx, w, m, blocks)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&ip, "ip", "", "report whether this specific IP address is in use")
	f.BoolVar(&blocks, "show-blocks", false, "show detailed information for IP blocks as well as pools")
	f.BoolVar(&borrowed, "show-borrowed", false, `show detailed information for "borrowed" IP addresses`)
	f.BoolVar(&configuration, "show-configuration", false, "show the current Calico IPAM configuration")
	return cmd
}

// showUsage prints the GROUPING / CIDR / IPS TOTAL / IPS IN USE / IPS FREE
// table: one row per pool and, with blocks, one row per block under its
// pool. Blocks outside every pool (their pool was deleted) follow at the
// end without a pool row, as calicoctl prints them.
func showUsage(ctx context.Context, w io.Writer, m *ipam.IPAM, blocks bool) error {
	u, err := m.Usage(ctx)
	if err != nil {
		return err
	}
	t := &boxTable{header: []string{"GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE"}}
	for _, p := range u.Pools {
		size, _ := new(big.Float).SetInt(p.SizeInt()).Float64()
		t.add(usageRow("IP Pool", p.CIDR.String(), size, float64(p.InUse))...)
		if blocks {
			for _, b := range u.Blocks {
				if b.Pool == p.Name {
					t.add(usageRow("Block", b.CIDR.String(), float64(b.Size), float64(b.InUse))...)
				}
			}
		}
	}
	if blocks {
		for _, b := range u.Blocks {
			if b.Pool == "" {
				t.add(usageRow("Block", b.CIDR.String(), float64(b.Size), float64(b.InUse))...)
			}
		}
	}
	t.render(w)
	return nil
}

// usageRow formats counts as calicoctl does: five significant digits, and
// the in-use and free shares as whole percentages.
func usageRow(grouping, cidr string, capacity, inUse float64) []string {
	pct := func(n float64) string {
		if capacity == 0 {
			return fmt.Sprintf("%.5g", n)
		}
		return fmt.Sprintf("%.5g (%.f%%)", n, 100*n/capacity)
	}
	return []string{grouping, cidr, fmt.Sprintf("%.5g", capacity), pct(inUse), pct(capacity - inUse)}
}

// showIP prints whether one address is allocated and, if so, its handle
// and attributes.
func showIP(ctx context.Context, w io.Writer, m *ipam.IPAM, ip netip.Addr) error {
	a, err := m.GetAssignmentAttributes(ctx, ip)
	if errors.Is(err, ipam.ErrNoSuchAllocation) {
		fmt.Fprintf(w, "%s is not assigned\n", ip)
		return nil
	}
	if err != nil {
		return err
	}
	if a.Released != nil {
		fmt.Fprintf(w, "%s is not assigned: it was released at %s and is cooling down (ipCooldownSeconds) before reuse\n",
			ip, a.Released.UTC().Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(w, "IP %s is in use\n", ip)
	if a.Handle != "" {
		fmt.Fprintf(w, "Handle ID: %s\n", a.Handle)
	} else {
		fmt.Fprintln(w, "Handle ID: <none>")
	}
	if len(a.Attrs) == 0 {
		fmt.Fprintln(w, "No attributes defined")
		return nil
	}
	fmt.Fprintln(w, "Attributes:")
	keys := make([]string, 0, len(a.Attrs))
	for k := range a.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, a.Attrs[k])
	}
	return nil
}

// showBorrowed prints the addresses allocated to one node from a block
// affine to another (or to none).
func showBorrowed(ctx context.Context, w io.Writer, m *ipam.IPAM) error {
	u, err := m.Usage(ctx)
	if err != nil {
		return err
	}
	t := &boxTable{header: []string{"IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"}}
	for _, b := range u.Borrowed {
		typ, to := b.Attrs[ipam.AttrType], ""
		if pod := b.Attrs[ipam.AttrPod]; pod != "" {
			typ, to = "pod", b.Attrs[ipam.AttrNamespace]+"/"+pod
		}
		t.add(b.Addr.String(), b.BorrowingNode, b.Block.String(), b.BlockOwner, typ, to)
	}
	t.render(w)
	return nil
}

// showConfiguration prints the IPAM configuration in calicoctl's
// PROPERTY / VALUE table (field names as Calico's IPAMConfig spells them).
func showConfiguration(ctx context.Context, w io.Writer, m *ipam.IPAM) error {
	c, err := m.GetIPAMConfig(ctx)
	if err != nil {
		return err
	}
	t := &boxTable{header: []string{"PROPERTY", "VALUE"}}
	t.add("StrictAffinity", fmt.Sprint(c.StrictAffinity))
	t.add("AutoAllocateBlocks", fmt.Sprint(c.AutoAllocateBlocks))
	t.add("MaxBlocksPerHost", fmt.Sprint(c.MaxBlocksPerHost))
	if c.IPCooldown > 0 {
		t.add("IPCooldownSeconds", fmt.Sprint(int(c.IPCooldown/time.Second)))
	}
	t.render(w)
	return nil
}
