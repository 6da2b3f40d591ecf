package ctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/bgp"
)

// nodeCommand is `calicoctl node`, holding `status`.
func (a *app) nodeCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "node", Short: "Calico node management"}
	cmd.AddCommand(a.nodeStatusCommand())
	return cmd
}

// nodeStatusCommand prints the local calico-node's BGP sessions, asked over
// its status socket (TRICOLOR_RUN_DIR/bgp.sock, default
// /var/run/calico/bgp.sock). No answer: "Calico process is not running."
// and exit code 1, as calicoctl does.
func (a *app) nodeStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Check the status of the Calico node instance (BGP sessions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := bgp.StatusSocketPath(os.Getenv)
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			return printNodeStatus(ctx, a.opts.Stdout, path)
		},
	}
}

// printNodeStatus queries the socket at path and prints Calico's report.
func printNodeStatus(ctx context.Context, w io.Writer, path string) error {
	st, err := bgp.QueryStatus(ctx, path)
	if err != nil {
		fmt.Fprintln(w, "Calico process is not running.")
		return fmt.Errorf("no calico-node answered on %s (%v); start calico-node with CALICO_NETWORKING_BACKEND=bird, or set %s to its run directory", path, err, bgp.RunDirEnv)
	}
	fmt.Fprintln(w, "Calico process is running.")
	fmt.Fprintln(w)
	return bgp.WriteStatusTable(w, st)
}
