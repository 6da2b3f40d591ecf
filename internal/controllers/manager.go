package controllers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// Manager runs the enabled controllers while it holds the leader Lease.
type Manager struct {
	// cfg is the configuration as given: the static settings, and the
	// controllers' settings too unless cfg.Environment is set (then kcc
	// resolves those from the KubeControllersConfiguration).
	cfg     Config
	kcc     *kccSync
	kube    kubernetes.Interface
	backend datastore.Backend
	ipam    *ipam.IPAM
	metrics *metrics
	health  *health
	checks  *healthChecks
	server  metricsServer
	log     *slog.Logger
	leading atomic.Bool
}

// New builds a Manager over a Kubernetes client and Calico's datastore
// backend (etcd, or the Kubernetes CRD backend with DATASTORE_TYPE=kubernetes).
func New(cfg Config, kube kubernetes.Interface, backend datastore.Backend, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	m := &Manager{
		cfg: cfg, kube: kube, backend: backend, log: log,
		ipam:    ipam.New(backend, ipam.Options{Logger: log}),
		metrics: newMetrics(),
		health:  newHealth(),
		checks:  newHealthChecks(),
	}
	if cfg.Environment != nil {
		m.kcc = newKCCSync(cfg, backend, log)
	}
	return m
}

// IsLeader reports whether this instance currently runs the controllers.
func (m *Manager) IsLeader() bool { return m.leading.Load() }

// Handler serves /metrics, /liveness and /readiness (Run serves it on
// MetricsPort; exported for tests and embedding).
func (m *Manager) Handler() http.Handler { return m.handler() }

// Run serves health and metrics, joins the leader election and runs the
// controllers while leading. It returns nil when ctx ends and an error
// when leadership is lost, so that the process exits and its restart
// joins the election afresh (client-go's recommendation).
//
// When following the KubeControllersConfiguration, Run first waits until
// it can read (or create) the resource, as Calico does: the metrics port
// may come from it.
func (m *Manager) Run(ctx context.Context) error {
	cfg := m.cfg
	if m.kcc != nil {
		var err error
		if cfg, err = m.kcc.first(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	m.checks.setEnabled(!cfg.NoHealthChecks)
	go m.runHealthChecks(ctx, m.cfg.HealthCheckPeriod)
	m.server.ctx = ctx
	if err := m.server.move(m, cfg.MetricsPort); err != nil {
		return err
	}
	m.health.set("standby")
	m.log.Info("joining leader election", "lease", m.cfg.LeaseNamespace+"/"+m.cfg.LeaseName, "identity", m.cfg.Identity,
		"controllers", cfg.Enabled, "kubernetesDatastore", m.cfg.Kubernetes, "followsKubeControllersConfiguration", m.kcc != nil)
	if err := m.elect(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("lost the leader lease " + m.cfg.LeaseNamespace + "/" + m.cfg.LeaseName + "; exiting so that a restart rejoins the election")
}

// lead runs the controllers until ctx ends (leadership lost or shutdown).
// Following the KubeControllersConfiguration, it takes the configuration
// from kcc (which also writes the status) and, when it changes, stops
// every controller and starts them again with the new one, in this
// process: informers, queues and IPAM GC's leak clocks start afresh, as
// after Calico's restart, without the process exiting.
func (m *Manager) lead(ctx context.Context) {
	m.leading.Store(true)
	m.metrics.leader.Set(1)
	m.health.set("syncing")
	defer func() {
		m.leading.Store(false)
		m.metrics.leader.Set(0)
		m.health.set("standby")
	}()

	cfg := m.cfg
	var updates chan Config
	if m.kcc != nil {
		updates = make(chan Config)
		syncCtx, stop := context.WithCancel(ctx)
		synced := make(chan struct{})
		go func() {
			defer close(synced)
			m.kcc.run(syncCtx, updates)
		}()
		defer func() { stop(); <-synced }()
		select {
		case cfg = <-updates:
		case <-ctx.Done():
			return
		}
	}
	for {
		m.checks.setEnabled(!cfg.NoHealthChecks)
		if err := m.server.move(m, cfg.MetricsPort); err != nil {
			m.log.Error("metrics and health server not moved; it keeps its port", "err", err)
		}
		next, changed := m.runUntilChanged(ctx, cfg, updates)
		if !changed {
			return
		}
		m.log.Info("KubeControllersConfiguration changed; controllers restarted with it", "controllers", next.Enabled,
			"leakGracePeriod", next.LeakGracePeriod, "reconcilerPeriod", next.ReconcilerPeriod, "periods", next.Periods,
			"syncLabels", next.nodeSettings().syncLabels, "autoHostEndpoints", next.nodeSettings().autoHEP, "healthChecks", !next.NoHealthChecks)
		cfg = next
	}
}

// runUntilChanged runs the controllers of cfg until ctx ends or a
// configuration with different settings arrives on updates; it returns
// that configuration once the controllers have stopped.
func (m *Manager) runUntilChanged(ctx context.Context, cfg Config, updates <-chan Config) (Config, bool) {
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.runControllers(runCtx, cfg)
	}()
	defer func() { cancel(); <-done }()
	for {
		select {
		case <-ctx.Done():
			return cfg, false
		case <-done:
			return cfg, false
		case next := <-updates:
			if !sameSettings(cfg, next) {
				return next, true
			}
		}
	}
}

// periodicTask is one controller's resync (or GC pass) and its period.
type periodicTask struct {
	period time.Duration
	run    func(context.Context) error
}

// runControllers runs the controllers of cfg until ctx ends.
func (m *Manager) runControllers(ctx context.Context, cfg Config) {
	m.health.set("syncing")
	f := informers.NewSharedInformerFactory(m.kube, cfg.ReconcilerPeriod)
	var loops []*loop
	var periodic []periodicTask
	var background []func(context.Context)
	var gc *ipamGC
	running := cfg.running()
	for _, name := range cfg.Enabled {
		if !slices.Contains(running, name) {
			m.log.Info("controller not needed with the Kubernetes datastore (Calico reads these objects from the API); skipped", "controller", name)
		}
	}
	for _, name := range running {
		var l *loop
		var resync func(context.Context) error
		switch name {
		case ControllerNode:
			o := &owners{kube: m.kube, backend: m.backend, kdd: m.cfg.Kubernetes,
				pods: f.Core().V1().Pods().Lister(), nodes: f.Core().V1().Nodes().Lister()}
			nc := newNodeController(m, f, o)
			l, resync = nc.loop, nc.resync
			ns := newNodeSync(m, f, cfg)
			loops, periodic = append(loops, ns.loop), append(periodic, periodicTask{cfg.period(name), ns.resync})
			background = append(background, ns.watchNodes)
			if cfg.LeakGracePeriod >= 0 {
				gc = newIPAMGC(m, f, o, cfg.LeakGracePeriod, cfg.period(name))
			} else {
				m.log.Info("IPAM garbage collection disabled (leak grace period 0)")
			}
		case ControllerPolicy:
			mr := newPolicyMirror(m, f)
			l, resync = mr.loop, mr.resync
		case ControllerNamespace:
			mr := newNamespaceMirror(m, f)
			l, resync = mr.loop, mr.resync
		case ControllerServiceAccount:
			mr := newServiceAccountMirror(m, f)
			l, resync = mr.loop, mr.resync
		case ControllerWorkloadEndpoint:
			pl := newPodLabels(m, f)
			l, resync = pl.loop, pl.resync
		}
		loops, periodic = append(loops, l), append(periodic, periodicTask{cfg.period(name), resync})
	}

	f.Start(ctx.Done())
	defer f.Shutdown()
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			m.log.Error("informer did not sync; giving up leadership", "type", typ.String())
			return
		}
	}
	m.health.set("leading")
	m.log.Info("leading; controllers running", "controllers", running)

	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(func() { l.run(ctx, m.cfg.Workers) })
	}
	if gc != nil {
		wg.Go(func() { gc.run(ctx) })
	}
	for _, run := range background {
		wg.Go(func() { run(ctx) })
	}
	for _, p := range periodic {
		wg.Go(func() { m.every(ctx, p) })
	}
	wg.Wait()
}

// every runs p now and then every p.period until ctx ends.
func (m *Manager) every(ctx context.Context, p periodicTask) {
	t := time.NewTicker(p.period)
	defer t.Stop()
	for {
		if err := p.run(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("periodic reconcile failed; retrying next period", "err", err, "period", p.period)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
