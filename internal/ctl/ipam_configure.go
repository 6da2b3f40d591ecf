package ctl

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamConfigureCommand builds `ipam configure [--strictaffinity=<true/false>]
// [--max-blocks-per-host=<number>]`: it changes only the settings given
// and keeps every other field of the IPAMConfiguration.
func (a *app) ipamConfigureCommand() *cobra.Command {
	var strict, maxBlocks string
	cmd := &cobra.Command{
		Use:   "configure [--strictaffinity=<true/false>] [--max-blocks-per-host=<number>]",
		Short: "Configure IPAM (strict affinity, blocks per host)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var strictVal *bool
			var maxVal *int
			if f.Changed("strictaffinity") {
				v, err := strconv.ParseBool(strict)
				if err != nil {
					return fmt.Errorf("invalid value %q for --strictaffinity. Use true or false to set strictaffinity", strict)
				}
				strictVal = &v
			}
			if f.Changed("max-blocks-per-host") {
				v, err := strconv.Atoi(maxBlocks)
				if err != nil || v < 0 {
					return fmt.Errorf("invalid value %q for --max-blocks-per-host. Use a whole number, 0 for no limit", maxBlocks)
				}
				maxVal = &v
			}
			if strictVal == nil && maxVal == nil {
				return fmt.Errorf("at least one configuration option must be specified: --strictaffinity=<true/false> or --max-blocks-per-host=<number>")
			}
			return a.withIPAM(cmd.Context(), func(_ *client.Client, m *ipam.IPAM) error {
				ctx := cmd.Context()
				cfg, err := m.GetIPAMConfig(ctx)
				if err != nil {
					return err
				}
				if strictVal != nil {
					cfg.StrictAffinity = *strictVal
				}
				if maxVal != nil {
					cfg.MaxBlocksPerHost = *maxVal
				}
				if err := m.SetIPAMConfig(ctx, cfg); err != nil {
					return err
				}
				if strictVal != nil {
					fmt.Fprintln(a.opts.Stdout, "Successfully set StrictAffinity to:", *strictVal)
				}
				if maxVal != nil {
					fmt.Fprintln(a.opts.Stdout, "Successfully set MaxBlocksPerHost to:", *maxVal)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&strict, "strictaffinity", "", "set StrictAffinity to true/false; when true, borrowing IP addresses from other nodes' blocks is not allowed")
	cmd.Flags().StringVar(&maxBlocks, "max-blocks-per-host", "", "set the maximum number of blocks that can be affine to a host (0: no limit)")
	return cmd
}
