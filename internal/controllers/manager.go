package controllers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	cfg     Config
	kube    kubernetes.Interface
	backend datastore.Backend
	ipam    *ipam.IPAM
	metrics *metrics
	health  *health
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
	return &Manager{
		cfg: cfg, kube: kube, backend: backend, log: log,
		ipam:    ipam.New(backend, ipam.Options{Logger: log}),
		metrics: newMetrics(),
		health:  newHealth(),
	}
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
func (m *Manager) Run(ctx context.Context) error {
	if m.cfg.MetricsPort > 0 {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", m.cfg.MetricsPort))
		if err != nil {
			return fmt.Errorf("metrics and health port %d: %w; set PROMETHEUS_METRICS_PORT to a free port", m.cfg.MetricsPort, err)
		}
		go func() {
			if err := m.serve(ctx, ln); err != nil {
				m.log.Error("health server stopped", "err", err)
			}
		}()
	}
	m.health.set("standby")
	m.log.Info("joining leader election", "lease", m.cfg.LeaseNamespace+"/"+m.cfg.LeaseName, "identity", m.cfg.Identity,
		"controllers", m.cfg.Enabled, "kubernetesDatastore", m.cfg.Kubernetes)
	if err := m.elect(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("lost the leader lease " + m.cfg.LeaseNamespace + "/" + m.cfg.LeaseName + "; exiting so that a restart rejoins the election")
}

// lead runs the controllers until ctx ends (leadership lost or shutdown).
func (m *Manager) lead(ctx context.Context) {
	m.leading.Store(true)
	m.metrics.leader.Set(1)
	m.health.set("syncing")
	defer func() {
		m.leading.Store(false)
		m.metrics.leader.Set(0)
		m.health.set("standby")
	}()

	f := informers.NewSharedInformerFactory(m.kube, m.cfg.ReconcilerPeriod)
	var loops []*loop
	var periodic []func(context.Context) error
	var gc *ipamGC
	if m.cfg.enabled(ControllerNode) {
		o := &owners{kube: m.kube, backend: m.backend, kdd: m.cfg.Kubernetes,
			pods: f.Core().V1().Pods().Lister(), nodes: f.Core().V1().Nodes().Lister()}
		nc := newNodeController(m, f, o)
		loops, periodic = append(loops, nc.loop), append(periodic, nc.resync)
		if m.cfg.LeakGracePeriod >= 0 {
			gc = newIPAMGC(m, f, o)
		} else {
			m.log.Info("IPAM garbage collection disabled (leak grace period 0)")
		}
	}
	for _, name := range etcdOnly {
		if !m.cfg.enabled(name) {
			continue
		}
		if m.cfg.Kubernetes {
			m.log.Info("controller not needed with the Kubernetes datastore (Calico reads these objects from the API); skipped", "controller", name)
			continue
		}
		var l *loop
		var resync func(context.Context) error
		switch name {
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
		loops, periodic = append(loops, l), append(periodic, resync)
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
	m.log.Info("leading; controllers running", "controllers", m.cfg.Enabled)

	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ctx, m.cfg.Workers)
		}()
	}
	if gc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gc.run(ctx)
		}()
	}
	m.periodic(ctx, periodic)
	wg.Wait()
}

// periodic runs each resync / GC pass now and then every ReconcilerPeriod
// until ctx ends.
func (m *Manager) periodic(ctx context.Context, fns []func(context.Context) error) {
	t := time.NewTicker(m.cfg.ReconcilerPeriod)
	defer t.Stop()
	for {
		for _, fn := range fns {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("periodic reconcile failed; retrying next period", "err", err, "period", m.cfg.ReconcilerPeriod)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
