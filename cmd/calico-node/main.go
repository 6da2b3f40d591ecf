// Command calico-node is Tricolor's per-host agent with calico-node's flags:
//
//	calico-node              run startup, then host the node's components
//	                         (Felix unless CALICO_DISABLE_FELIX=true, BGP,
//	                         the CNI token refresher in a pod) and the
//	                         health endpoint until SIGTERM
//	calico-node -startup     run startup once and exit
//	calico-node -felix-live | -felix-ready | -bird-live | -bird-ready
//	                         probe the local health endpoint; exit 0 or 1
//	calico-node -v           print the version
//	calico-node install-cni  install the CNI binaries, kubeconfig and
//	                         conflist on the host and exit (init container;
//	                         internal/installcni)
//
// Configuration comes from the environment with Calico's names
// (internal/node/config.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/felix"
	"github.com/tricolor-net/tricolor/internal/logging"
	"github.com/tricolor-net/tricolor/internal/node"
	"github.com/tricolor-net/tricolor/internal/node/health"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "install-cni" {
		return installCNI(args[1:])
	}
	fs := flag.NewFlagSet("calico-node", flag.ContinueOnError)
	version := fs.Bool("v", false, "Display version")
	startup := fs.Bool("startup", false, "Do startup initialisation and exit")
	felixLive := fs.Bool("felix-live", false, "Run felix liveness checks")
	felixReady := fs.Bool("felix-ready", false, "Run felix readiness checks")
	birdLive := fs.Bool("bird-live", false, "Run BGP liveness checks")
	birdReady := fs.Bool("bird-ready", false, "Run BGP readiness checks")
	threshold := fs.Duration("threshold-time", 30*time.Second, "Time limit for the health checks")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Println(node.Version)
		return 0
	}
	var checks []health.Check
	for _, c := range []struct {
		on    bool
		check health.Check
	}{{*felixLive, health.FelixLive}, {*felixReady, health.FelixReady}, {*birdLive, health.BirdLive}, {*birdReady, health.BirdReady}} {
		if c.on {
			checks = append(checks, c.check)
		}
	}
	if len(checks) > 0 {
		return probe(checks, *threshold)
	}

	cfg, err := node.LoadConfig(os.Environ(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logging.SetDefault(cfg.StartupLogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	c, closeDS, err := client.Open(ctx, cfg.Datastore)
	if err != nil {
		slog.Error("cannot connect to the datastore", "err", err)
		return 1
	}
	defer closeDS()
	if _, err := node.Startup(ctx, c, cfg, node.Deps{}); err != nil {
		slog.Error("startup failed", "err", err)
		return 1
	}
	if *startup {
		return 0
	}
	// Each component registers its health.Reporter on agg when it is built.
	agg := health.NewAggregator()
	var comps []node.Component
	if cfg.DisableFelix {
		slog.Info("Felix disabled (CALICO_DISABLE_FELIX=true)")
	} else {
		comps = append(comps, felix.New(felix.Config{NodeName: cfg.NodeName, Backend: c.Backend(), Health: agg,
			ApplyEnv: cfg.Felix.Apply, Log: slog.Default(),
			// Without the BGP agent nobody else blackholes this node's blocks.
			LocalBlockBlackholes: cfg.Backend != node.BackendBird}))
	}
	if bgpc := bgpComponent(cfg, c.Backend(), agg); bgpc != nil {
		comps = append(comps, bgpc)
	}
	if tok := cniTokenRefresher(os.Getenv); tok != nil {
		comps = append(comps, tok)
	}
	p := node.NewProcess(node.ProcessConfig{HealthAddr: cfg.HealthAddr(), Health: agg, Components: comps})
	if err := p.Run(ctx); err != nil {
		slog.Error("calico-node stopped", "err", err)
		return 1
	}
	slog.Info("calico-node stopped (signal)")
	return 0
}

// probe runs the health checks against FELIX_HEALTHHOST:FELIX_HEALTHPORT and
// prints the failure as calico-node does.
func probe(checks []health.Check, threshold time.Duration) int {
	port := 0
	if s := os.Getenv("FELIX_HEALTHPORT"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil {
			fmt.Printf("calico/node check error: FELIX_HEALTHPORT %q is not a port\n", s)
			return 1
		}
		port = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), threshold)
	defer cancel()
	if err := health.Probe(ctx, health.Endpoint(os.Getenv("FELIX_HEALTHHOST"), port), checks...); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}
