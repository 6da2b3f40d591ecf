package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// HealthReporter receives the component's liveness and readiness
// (a *health.Reporter registered in health.GroupBGP satisfies it).
type HealthReporter interface {
	Report(live, ready bool, detail string)
}

// ComponentConfig configures the BGP component of calico-node.
type ComponentConfig struct {
	// NodeName is the local Calico node.
	NodeName string
	// Backend is the datastore the syncer reads.
	Backend datastore.Backend
	// Secrets resolves BGPPassword secret references (optional). With it,
	// the state is re-applied every SecretRefresh so a changed Secret is
	// picked up without a datastore change.
	Secrets SecretGetter
	// SecretRefresh is that interval (default 30s).
	SecretRefresh time.Duration
	// Health receives -bird-live / -bird-ready state (optional).
	Health HealthReporter
	// SocketPath is where the status socket for `calicoctl node status`
	// listens ("" for none; see StatusSocketPath).
	SocketPath string
	// Routes is the kernel table learned routes go to; nil opens a
	// netlink handle on the current network namespace.
	Routes RouteTable
	// Speaker tunes the speaker (OnBestPaths must be nil).
	Speaker SpeakerConfig
	// HealthInterval is how often health is re-evaluated (default 2s).
	HealthInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Component runs the BGP agent inside calico-node (a node.Component):
//
//	datastore ──Syncer──► StateCache ──RunFromCache──► Agent ──► kernel (proto bird)
//	                                                     │
//	                         status socket ◄── Status ───┤
//	                         health reporter ◄───────────┤
//	 CalicoNodeStatus ◄── NodeStatusReporter ◄─ Snapshot ┘
type Component struct {
	cfg ComponentConfig
	log *slog.Logger
}

// NewComponent builds the component; nothing runs before Run.
func NewComponent(cfg ComponentConfig) *Component {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = 2 * time.Second
	}
	if cfg.SecretRefresh == 0 {
		cfg.SecretRefresh = 30 * time.Second
	}
	return &Component{cfg: cfg, log: cfg.Logger.With("component", "bgp")}
}

// Name is "bgp".
func (c *Component) Name() string { return "bgp" }

// Run syncs the datastore, runs the speaker and the route installer, and
// serves status and health until ctx ends; the sessions are then closed
// (routes stay in the kernel for graceful restart). It fails only when it
// cannot start (no netlink, status socket not bindable).
func (c *Component) Run(ctx context.Context) error {
	if c.cfg.Backend == nil {
		return fmt.Errorf("BGP component for node %q: no datastore backend configured", c.cfg.NodeName)
	}
	routes := c.cfg.Routes
	if routes == nil {
		h, err := netlink.NewHandle()
		if err != nil {
			return fmt.Errorf("BGP component: open netlink to install routes: %w", err)
		}
		defer h.Close()
		routes = h
	}
	agent := NewAgent(AgentConfig{NodeName: c.cfg.NodeName, Secrets: c.cfg.Secrets, Routes: routes, Logger: c.cfg.Logger, Speaker: c.cfg.Speaker})
	var srv *StatusServer
	if c.cfg.SocketPath != "" {
		s, err := ListenStatus(c.cfg.SocketPath, agent.Status)
		if err != nil {
			return err
		}
		srv = s
	}
	cache := NewStateCache(c.cfg.Logger)
	syncer := datastore.NewSyncer(c.cfg.Backend, SyncedKinds(), cache)

	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { syncer.Run(ctx) })
	goRun(func() { agent.RunFromCache(ctx, cache) })
	if c.cfg.Secrets != nil {
		goRun(func() { refreshEvery(ctx, c.cfg.SecretRefresh, cache.notify) })
	}
	goRun(func() { agent.Run(ctx) })
	// The client shares the component's backend; it is not closed here.
	reporter := NewNodeStatusReporter(c.cfg.NodeName, client.New(c.cfg.Backend), agent.Snapshot, c.cfg.Logger)
	goRun(func() { reporter.Run(ctx) })
	if srv != nil {
		goRun(func() {
			if err := srv.Serve(ctx); err != nil {
				c.log.Error("BGP status socket stopped", "path", srv.Path(), "err", err)
			}
		})
		c.log.Info("BGP status socket listening", "path", srv.Path())
	}
	c.healthLoop(ctx, agent)

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := agent.Stop(sctx); err != nil {
		c.log.Warn("BGP speaker did not stop cleanly", "err", err)
	}
	wg.Wait()
	return nil
}

// refreshEvery calls f every interval until ctx ends.
func refreshEvery(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// healthLoop reports health until ctx ends.
func (c *Component) healthLoop(ctx context.Context, agent *Agent) {
	t := time.NewTicker(c.cfg.HealthInterval)
	defer t.Stop()
	for {
		if c.cfg.Health != nil {
			live, ready, detail := evaluateHealth(ctx, agent)
			c.cfg.Health.Report(live, ready, detail)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// evaluateHealth follows Calico's bird-live / bird-ready: live while the
// speaker answers; ready once the datastore state is applied and every
// configured peer is Established (a node with no peers is ready).
func evaluateHealth(ctx context.Context, agent *Agent) (live, ready bool, detail string) {
	if !agent.applied.Load() {
		return true, false, "waiting for the datastore to sync before starting BGP"
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := agent.Status(qctx)
	if err != nil {
		if ctx.Err() != nil {
			return true, false, "stopping"
		}
		return false, false, "BGP speaker not answering: " + err.Error()
	}
	ready, detail = peersReady(st)
	return true, ready, detail
}

// peersReady is Calico's readiness rule: not ready while any configured
// peer is not Established, naming them ("BGP not established with …").
func peersReady(st []PeerStatus) (bool, string) {
	var down []string
	for _, p := range st {
		if !p.Established() {
			down = append(down, p.Peer.Address.String())
		}
	}
	if len(down) > 0 {
		return false, "BGP not established with " + strings.Join(down, ",")
	}
	return true, ""
}
