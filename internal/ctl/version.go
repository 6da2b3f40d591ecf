package ctl

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// Version is the client version; release builds set it with
// -ldflags "-X github.com/tricolor-net/tricolor/internal/ctl.Version=v…".
var Version = "v0.1.0-dev"

// versionCommand prints the client version and, when the datastore is
// reachable, the cluster's (from ClusterInformation "default").
func (a *app) versionCommand() *cobra.Command {
	var clientOnly bool
	return &cobra.Command{
		Use:   "version",
		Short: "Display the client and cluster versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.opts.Stdout, "Client Version:    %s\n", Version)
			fmt.Fprintf(a.opts.Stdout, "Git commit:        %s\n", gitCommit())
			if clientOnly {
				return nil
			}
			ver, typ := a.clusterVersion(cmd.Context())
			fmt.Fprintf(a.opts.Stdout, "Cluster Version:   %s\n", ver)
			fmt.Fprintf(a.opts.Stdout, "Cluster Type:      %s\n", typ)
			return nil
		},
	}
}

// clusterVersion reads ClusterInformation "default"; "unknown" when the
// datastore or the resource is not there.
func (a *app) clusterVersion(ctx context.Context) (version, clusterType string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, closer, err := a.opts.Open(ctx, a.configPath)
	if err != nil {
		return "unknown", "unknown"
	}
	defer closer()
	r, err := c.Get(ctx, "ClusterInformation", "", "default")
	if err != nil {
		return "unknown", "unknown"
	}
	m := fieldsOfRes(r)
	version, clusterType = scalar(lookup(m, "spec.calicoVersion")), scalar(lookup(m, "spec.clusterType"))
	if version == "" {
		version = "unknown"
	}
	if clusterType == "" {
		clusterType = "unknown"
	}
	return version, clusterType
}

// gitCommit is the VCS revision the binary was built from, if recorded.
func gitCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				if len(s.Value) > 8 {
					return s.Value[:8]
				}
				return s.Value
			}
		}
	}
	return "unknown"
}
