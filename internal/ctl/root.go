package ctl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/client"
)

// OpenFunc connects to the datastore named by the config file path (or the
// environment). It returns the client and a function that releases it.
type OpenFunc func(ctx context.Context, configPath string) (*client.Client, func() error, error)

// Options wires calicoctl to its environment; tests substitute the streams
// and the datastore.
type Options struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Open connects to the datastore; DefaultOpen when nil.
	Open OpenFunc
}

// DefaultOpen loads Calico's client configuration and opens the datastore
// it names (see client.LoadConfig and client.Open).
func DefaultOpen(ctx context.Context, configPath string) (*client.Client, func() error, error) {
	cfg, err := client.LoadConfig(configPath, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	return client.Open(ctx, cfg)
}

// app holds what every command needs.
type app struct {
	opts       Options
	configPath string
	logLevel   string
	// kubeContext is --context: the kubeconfig context of the kubernetes
	// datastore, passed on as K8S_CURRENT_CONTEXT as calicoctl does.
	kubeContext string
}

// Main runs calicoctl with args (without the program name) and returns the
// exit code: 0 on success, 1 on any failure, as calicoctl does. Errors go to
// stderr.
func Main(args []string, opts Options) int {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Open == nil {
		opts.Open = DefaultOpen
	}
	a := &app{opts: opts}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(opts.Stdin)
	root.SetOut(opts.Stdout)
	root.SetErr(opts.Stderr)
	if err := root.ExecuteContext(context.Background()); err != nil {
		msg := strings.TrimRight(err.Error(), "\n")
		fmt.Fprintln(opts.Stderr, msg)
		return 1
	}
	return 0
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "calicoctl",
		Short:         "calicoctl manages Calico (Tricolor) resources: pools, policies, tiers, endpoints, BGP and more",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.kubeContext != "" {
				if err := os.Setenv("K8S_CURRENT_CONTEXT", a.kubeContext); err != nil {
					return err
				}
			}
			return a.setupLogging()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configPath, "config", "c", client.DefaultConfigPath, "path to the file containing connection configuration in YAML or JSON format")
	pf.StringVarP(&a.logLevel, "log-level", "l", "panic", "log level: debug, info, warn, error, fatal or panic (none)")
	pf.Bool("allow-version-mismatch", false, "allow client and cluster versions mismatch (accepted for compatibility)")
	pf.StringVar(&a.kubeContext, "context", "", "the kubeconfig context to use (kubernetes datastore; sets K8S_CURRENT_CONTEXT)")
	root.AddCommand(
		a.writeCommand(client.ActionCreate),
		a.writeCommand(client.ActionApply),
		a.writeCommand(client.ActionUpdate),
		a.deleteCommand(),
		a.getCommand(),
		a.patchCommand(),
		a.labelCommand(),
		a.validateCommand(),
		a.versionCommand(),
		a.ipamCommand(),
		a.nodeCommand(),
	)
	return root
}

// setupLogging routes slog to stderr at the requested level.
func (a *app) setupLogging() error {
	var lvl slog.Level
	switch strings.ToLower(a.logLevel) {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn", "warning":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	case "fatal", "panic", "":
		lvl = slog.LevelError + 4
	default:
		return fmt.Errorf("invalid --log-level %q; use debug, info, warn, error, fatal or panic", a.logLevel)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(a.opts.Stderr, &slog.HandlerOptions{Level: lvl})))
	return nil
}

// connect opens the datastore for one command.
func (a *app) connect(ctx context.Context) (*client.Client, func() error, error) {
	c, closer, err := a.opts.Open(ctx, a.configPath)
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to create Calico API client: %w", err)
	}
	return c, closer, nil
}
