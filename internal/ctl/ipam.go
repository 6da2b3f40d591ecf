package ctl

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamCommand builds `calicoctl ipam <command>`: show, check, release,
// configure and split, as calicoctl names them. Each subcommand lives in
// its own ipam_<name>.go.
func (a *app) ipamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipam <command>",
		Short: "IP address management: show usage, check for leaks, release addresses, configure, split pools",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		a.ipamShowCommand(),
		a.ipamCheckCommand(),
		a.ipamReleaseCommand(),
		a.ipamConfigureCommand(),
		a.ipamSplitCommand(),
	)
	return cmd
}

// withIPAM connects to the datastore and runs fn with the client and an
// IPAM over the same backend.
func (a *app) withIPAM(ctx context.Context, fn func(c *client.Client, m *ipam.IPAM) error) error {
	c, closer, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer closer()
	return fn(c, ipam.New(c.Backend(), ipam.Options{}))
}

// parseIPFlag parses the address given to --ip.
func parseIPFlag(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("Invalid IP address specified: %q; give an IPv4 or IPv6 address, e.g. --ip=10.244.0.5", s)
	}
	return ip.Unmap(), nil
}
