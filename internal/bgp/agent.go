package bgp

import (
	"context"
	"log/slog"
)

// AgentConfig wires the three parts together for one node.
type AgentConfig struct {
	// NodeName is the local Calico node.
	NodeName string
	// Secrets resolves BGPPassword secret references (optional).
	Secrets SecretGetter
	// Speaker configures the embedded GoBGP speaker; OnBestPaths is set by
	// the agent and must be left nil.
	Speaker SpeakerConfig
	// Routes is where learned routes and blackholes go; nil disables route
	// installation (a pure route reflector, or a test on loopback).
	Routes RouteTable
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Agent is the BGP side of calico-node: Apply(state) computes the desired
// state and hands it to the speaker and the route installer.
//
//	State ──Compute──► Desired ──► Speaker.Apply
//	                      └──────► RouteInstaller.SetBlackholes
//	Speaker best paths ──────────► RouteInstaller.OnBestPaths
type Agent struct {
	cfg     AgentConfig
	log     *slog.Logger
	speaker *Speaker
	routes  *RouteInstaller
}

// NewAgent builds the speaker and installer; nothing runs until Apply/Run.
func NewAgent(cfg AgentConfig) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Agent{cfg: cfg, log: cfg.Logger.With("component", "bgp", "node", cfg.NodeName)}
	sc := cfg.Speaker
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	if cfg.Routes != nil {
		a.routes = NewRouteInstaller(cfg.Routes, cfg.Logger)
		sc.OnBestPaths = a.routes.OnBestPaths
	}
	a.speaker = NewSpeaker(sc)
	return a
}

// Run programs routes until ctx ends (a no-op loop without a RouteTable).
func (a *Agent) Run(ctx context.Context) {
	if a.routes == nil {
		<-ctx.Done()
		return
	}
	a.routes.Run(ctx)
}

// Apply recomputes the desired state from st and reconciles it. On a
// Compute error nothing is changed: the speaker keeps its current peers and
// routes (the network keeps working while the configuration is fixed).
func (a *Agent) Apply(ctx context.Context, st *State) (*Desired, error) {
	d, err := Compute(a.cfg.NodeName, st, a.cfg.Secrets)
	if err != nil {
		return nil, err
	}
	for _, p := range d.Problems {
		a.log.Warn("BGP configuration problem", "problem", p)
	}
	if a.routes != nil {
		a.routes.SetBlackholes(d.Blackholes)
	}
	return d, a.speaker.Apply(ctx, d)
}

// Status reports the peers' session states.
func (a *Agent) Status(ctx context.Context) ([]PeerStatus, error) { return a.speaker.Status(ctx) }

// Stop closes every session with a Cease notification and stops the
// speaker. Installed routes stay in the kernel.
func (a *Agent) Stop(ctx context.Context) error { return a.speaker.Stop(ctx) }
