package felix

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane"
	"github.com/tricolor-net/tricolor/internal/dataplane/blackhole"
	"github.com/tricolor-net/tricolor/internal/dataplane/ipip"
	"github.com/tricolor-net/tricolor/internal/dataplane/sysctl"
	"github.com/tricolor-net/tricolor/internal/dataplane/vxlan"
	"github.com/tricolor-net/tricolor/internal/dataplane/wlroute"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/node/health"
)

// Felix is the per-node policy agent: syncer → calc graph → dataplane
// managers, driven by one loop goroutine (Run). Build it with New; it
// implements calico-node's Component (Name, Run).
type Felix struct {
	cfg     Config
	log     *slog.Logger
	rep     *health.Reporter
	metrics *metrics

	// Set once Run starts its metrics server (nil when disabled).
	metricsAddr atomic.Pointer[net.Addr]
	ready       atomic.Bool
	readyOnce   sync.Once
	readyCh     chan struct{}

	// Loop state: touched only by the loop goroutine.
	inbox     *inbox
	graph     *calc.Graph
	policy    *dataplane.PolicyManager
	vxlan     *vxlan.Manager     // nil unless the kernel dataplane is in use (cfg.NFT nil)
	ipip      *ipip.Manager      // likewise
	wlroutes  *wlroute.Manager   // likewise: local workload device routes
	sysctls   *sysctl.Manager    // likewise: IP forwarding
	blackhole *blackhole.Manager // nil unless also cfg.LocalBlockBlackholes (no BGP agent)
	routeKick chan struct{}      // 1-slot: a workload interface or route changed
	inSync    bool               // calc sent InSync: applies may start
	pending   bool               // updates recorded since the last apply
	lastApply time.Time          // start of the last apply attempt
	refresh   time.Duration      // effective refresh interval (<0: off)
	config    *v3.FelixConfigurationSpec
	last      dataplane.PolicyStats // stats at the previous apply (for counter deltas)
	applyErr  error                 // the last apply's failure, nil after a success
}

// New builds a Felix; nothing runs before Run. It registers Felix's health
// reporter on cfg.Health at once, so the -felix-ready probe reports "not
// ready" (rather than "no felix") while Felix starts.
func New(cfg Config) *Felix {
	cfg.defaults()
	f := &Felix{
		cfg: cfg, log: cfg.Log.With("component", "felix", "node", cfg.NodeName),
		metrics: newMetrics(), readyCh: make(chan struct{}), inbox: newInbox(),
		refresh:   DefaultRefreshInterval,
		routeKick: make(chan struct{}, 1),
	}
	if cfg.Health != nil {
		f.rep = cfg.Health.Register(HealthName, health.GroupFelix, cfg.HealthTimeout)
	}
	return f
}

// Name implements node.Component.
func (f *Felix) Name() string { return "felix" }

// Ready reports whether the first full apply after in-sync has succeeded.
func (f *Felix) Ready() bool { return f.ready.Load() }

// ReadyCh is closed when Felix becomes ready.
func (f *Felix) ReadyCh() <-chan struct{} { return f.readyCh }

// MetricsAddr is the bound Prometheus address, or nil when metrics are
// disabled or not started yet (they start with the first configuration).
func (f *Felix) MetricsAddr() net.Addr {
	if p := f.metricsAddr.Load(); p != nil {
		return *p
	}
	return nil
}

// Run syncs, computes and applies until ctx ends (returns nil) or the
// dataplane cannot be opened at all. Apply failures are logged and retried.
func (f *Felix) Run(ctx context.Context) error {
	if f.cfg.NodeName == "" || f.cfg.Backend == nil {
		return errors.New("felix: Config.NodeName and Config.Backend are required (calico-node sets them from NODENAME and the datastore)")
	}
	nftIface := f.cfg.NFT
	if nftIface == nil {
		var err error
		if nftIface, err = dataplane.NewNFTables(); err != nil {
			return fmt.Errorf("felix: %w", err)
		}
		// The real dataplane: vxlan.calico and its routes are programmed
		// through netlink in the namespace of the loop's thread.
		f.vxlan = vxlan.New(vxlan.Config{NodeName: f.cfg.NodeName, Log: f.log})
		f.ipip = ipip.New(ipip.Config{NodeName: f.cfg.NodeName, Log: f.log})
		f.wlroutes = wlroute.New(wlroute.Config{Log: f.log})
		f.sysctls = sysctl.New("", f.log)
		if f.cfg.LocalBlockBlackholes {
			f.blackhole = blackhole.New(blackhole.Config{NodeName: f.cfg.NodeName, Log: f.log})
		}
	}
	f.graph = calc.New(calc.Config{NodeName: f.cfg.NodeName, Log: f.cfg.Log})
	f.policy = dataplane.NewPolicyManager(nftIface, dataplane.PolicyConfig{Log: f.cfg.Log, RefreshInterval: DefaultRefreshInterval})
	f.report()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	if f.wlroutes != nil {
		// Subscribed from this thread, so in the namespace Felix programs.
		if err := f.wlroutes.Watch(ctx, f.kickRoutes); err != nil {
			f.log.Warn("no netlink change detection for workload routes; the periodic resync repairs them", "err", err)
		}
	}
	syncer := datastore.NewSyncer(f.cfg.Backend, syncOptions(), f.inbox)
	syncer.Log = f.cfg.Log
	wg.Add(1)
	go func() {
		defer wg.Done()
		syncer.Run(ctx)
	}()
	return f.loop(ctx, &wg)
}

// kickRoutes wakes the loop to resync workload routes (called from the
// netlink watcher's goroutine; never blocks).
func (f *Felix) kickRoutes() {
	select {
	case f.routeKick <- struct{}{}:
	default:
	}
}

// report sends the current health: live whenever the loop runs, with a
// detail explaining what readiness waits for (or the last apply failure).
func (f *Felix) report() {
	if f.rep == nil {
		return
	}
	detail := ""
	switch {
	case f.applyErr != nil:
		detail = "dataplane apply failed (retrying): " + f.applyErr.Error()
	case !f.inSync:
		detail = "waiting for the datastore to be in sync"
	case !f.ready.Load():
		detail = "waiting for the first dataplane apply"
	}
	f.rep.Report(true, f.ready.Load(), detail)
}

// markReady flips readiness after the first successful apply after
// in-sync; it never flips back (as Felix: readiness is about having
// programmed the dataplane once, liveness about the loop turning).
func (f *Felix) markReady() {
	f.readyOnce.Do(func() {
		f.ready.Store(true)
		f.report() // before readyCh, so a waiter sees the probe ready too
		close(f.readyCh)
		f.log.Info("felix ready: dataplane programmed after datastore in-sync")
	})
}
