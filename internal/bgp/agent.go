package bgp

import (
	"context"
	"log/slog"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
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
	// StartupGrace bounds how long protocol-12 routes left by a previous
	// run are kept while waiting for every session to come up (default
	// 120s, Calico's graceful-restart time).
	StartupGrace time.Duration
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
	applied atomic.Bool

	// mu guards what Snapshot reports besides the sessions.
	mu         sync.Mutex
	learned    map[netip.Prefix]LearnedRoute
	last       *Desired
	bootTime   time.Time
	reconfigAt time.Time
}

// NewAgent builds the speaker and installer; nothing runs until Apply/Run.
func NewAgent(cfg AgentConfig) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StartupGrace == 0 {
		cfg.StartupGrace = DefaultMaxRestartTime
	}
	a := &Agent{cfg: cfg, log: cfg.Logger.With("component", "bgp", "node", cfg.NodeName), learned: map[netip.Prefix]LearnedRoute{}}
	sc := cfg.Speaker
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	if cfg.Routes != nil {
		a.routes = NewRouteInstaller(cfg.Routes, cfg.Logger)
		if l, ok := cfg.Routes.(linkFinder); ok {
			a.routes.LinkIndex = func(name string) (int, error) {
				link, err := l.LinkByName(name)
				if err != nil {
					return 0, err
				}
				return link.Attrs().Index, nil
			}
		}
	}
	sc.OnBestPaths = a.onBestPaths
	a.speaker = NewSpeaker(sc)
	return a
}

// linkFinder is the part of *netlink.Handle that finds tunl0 for IPIP routes.
type linkFinder interface {
	LinkByName(name string) (netlink.Link, error)
}

// Run programs routes until ctx ends (a no-op loop without a RouteTable).
func (a *Agent) Run(ctx context.Context) {
	if a.routes == nil {
		<-ctx.Done()
		return
	}
	go a.sweepWhenConverged(ctx)
	a.routes.Run(ctx)
}

// sweepWhenConverged allows the installer to remove a previous run's
// routes once every session has been up for two checks in a row (a second
// apart, so the peers' updates have arrived), or after StartupGrace.
func (a *Agent) sweepWhenConverged(ctx context.Context) {
	deadline := time.Now().Add(a.cfg.StartupGrace)
	upChecks := 0
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if a.applied.Load() {
			st, err := a.speaker.Status(ctx)
			up := err == nil
			for _, s := range st {
				up = up && s.Established()
			}
			if up {
				upChecks++
			} else {
				upChecks = 0
			}
		}
		if upChecks >= 2 || time.Now().After(deadline) {
			a.log.Info("BGP converged; removing stale routes from before this run", "afterGrace", upChecks < 2)
			a.routes.AllowSweep()
			return
		}
	}
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
		a.routes.SetTunnels(d.Tunnels)
		a.routes.SetBlackholes(d.Blackholes)
	}
	if err := a.speaker.Apply(ctx, d); err != nil {
		return d, err
	}
	a.noteApplied(d)
	a.applied.Store(true)
	return d, nil
}

// onBestPaths records learned routes for Snapshot and hands them to the
// route installer.
func (a *Agent) onBestPaths(rs []LearnedRoute) {
	a.mu.Lock()
	for _, r := range rs {
		if r.Withdrawn {
			delete(a.learned, r.Prefix)
		} else {
			a.learned[r.Prefix] = r
		}
	}
	a.mu.Unlock()
	if a.routes != nil {
		a.routes.OnBestPaths(rs)
	}
}

// noteApplied records the boot and last-reconfiguration times (BIRD's
// "last boot" and "last reconfiguration"): a Desired that differs from the
// previous one counts as a reconfiguration.
func (a *Agent) noteApplied(d *Desired) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bootTime.IsZero() {
		a.bootTime = now
	}
	if a.last == nil || !reflect.DeepEqual(a.last, d) {
		a.reconfigAt = now
	}
	a.last = d
}

// Snapshot is the agent's state for a CalicoNodeStatus report.
func (a *Agent) Snapshot(ctx context.Context) (Snapshot, error) {
	peers, err := a.speaker.Status(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Snapshot{
		Running:        a.applied.Load(),
		BootTime:       a.bootTime,
		ReconfiguredAt: a.reconfigAt,
		Peers:          peers,
		Learned:        slices.Collect(maps.Values(a.learned)),
	}
	if a.last != nil {
		s.RouterID = a.last.RouterID
		s.Blackholes = slices.Clone(a.last.Blackholes)
	}
	if a.cfg.Routes != nil {
		s.Installed = installedRoutes(a.cfg.Routes)
	}
	return s, nil
}

// linkNamer is the part of *netlink.Handle that names a route's device.
type linkNamer interface {
	LinkByIndex(index int) (netlink.Link, error)
}

// installedRoutes maps our (protocol bird) unicast routes in the main
// table to their device name ("" when it cannot be named). A listing error
// gives an empty map: the report then shows learned paths as RIB only.
func installedRoutes(rt RouteTable) map[netip.Prefix]string {
	out := map[netip.Prefix]string{}
	names := map[int]string{}
	namer, _ := rt.(linkNamer)
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rs, err := rt.RouteListFiltered(fam, &netlink.Route{Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if err != nil {
			continue
		}
		for i := range rs {
			r := &rs[i]
			p, ok := routePrefix(r)
			if !ok || r.Protocol != RouteProtocolBIRD || r.Type == unix.RTN_BLACKHOLE {
				continue
			}
			name, known := names[r.LinkIndex]
			if !known && namer != nil {
				if l, err := namer.LinkByIndex(r.LinkIndex); err == nil {
					name = l.Attrs().Name
				}
				names[r.LinkIndex] = name
			}
			out[p] = name
		}
	}
	return out
}

// Status reports the peers' session states.
func (a *Agent) Status(ctx context.Context) ([]PeerStatus, error) { return a.speaker.Status(ctx) }

// Stop closes every session the way a restarting BIRD does (see
// Speaker.Stop: graceful-restart peers keep our routes, no withdrawal) and
// stops the speaker. Installed routes and blackholes stay in the kernel;
// the next run takes them over and sweeps what is stale once converged.
func (a *Agent) Stop(ctx context.Context) error { return a.speaker.Stop(ctx) }
