package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health paths, served with /metrics on the metrics port.
const (
	PathLiveness  = "/liveness"
	PathReadiness = "/readiness"
)

// health is what the probes report: live while the process runs its
// loops; ready once it either leads with every informer synced or waits
// as a standby (a standby is healthy: it takes over when the leader goes).
type health struct {
	state atomic.Value // string: "starting", "standby", "syncing", "leading"
}

func newHealth() *health {
	h := &health{}
	h.state.Store("starting")
	return h
}

func (h *health) set(s string) { h.state.Store(s) }
func (h *health) get() string  { return h.state.Load().(string) }

func (h *health) ready() bool {
	s := h.get()
	return s == "standby" || s == "leading"
}

// handler serves /metrics, /liveness and /readiness. Liveness fails only
// while a health check fails; readiness also needs the manager ready (a
// leader with synced caches, or a standby) — or, with the health checks
// disabled, only started, as Calico's readiness is then its startup alone.
func (m *Manager) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.metrics.registry, promhttp.HandlerOpts{}))
	answer := func(w http.ResponseWriter, ok bool) {
		failing := m.checks.failures()
		if !ok || failing != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, m.health.get())
		if failing != "" {
			fmt.Fprintln(w, failing)
		}
	}
	mux.HandleFunc(PathLiveness, func(w http.ResponseWriter, _ *http.Request) { answer(w, true) })
	mux.HandleFunc(PathReadiness, func(w http.ResponseWriter, _ *http.Request) {
		if m.checks.enabled.Load() {
			answer(w, m.health.ready())
		} else {
			answer(w, m.health.get() != "starting")
		}
	})
	return mux
}

// metricsServer is the one HTTP server of /metrics and the probes; move
// puts it on another port when the configuration changes.
type metricsServer struct {
	ctx  context.Context // Run's: the server outlives leadership
	mu   sync.Mutex
	port int
	stop context.CancelFunc // nil while not serving
}

// move serves m's handler on port from now on (0: not at all). The new
// port is bound before the old server stops, so a port that cannot be
// bound is an error and the old one keeps serving.
func (s *metricsServer) move(m *Manager, port int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if port == s.port && (port == 0 || s.stop != nil) {
		return nil
	}
	var ln net.Listener
	if port > 0 {
		var err error
		if ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port)); err != nil {
			return fmt.Errorf("metrics and health port %d: %w; set PROMETHEUS_METRICS_PORT (or prometheusMetricsPort) to a free port", port, err)
		}
	}
	if s.stop != nil {
		s.stop()
	}
	s.port, s.stop = port, nil
	if ln != nil {
		ctx, cancel := context.WithCancel(s.ctx)
		s.stop = cancel
		go func() {
			if err := m.serve(ctx, ln); err != nil {
				m.log.Error("health server stopped", "err", err, "port", port)
			}
		}()
	}
	return nil
}

// serve runs the HTTP server on ln until ctx ends.
func (m *Manager) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Probe asks the controllers' health endpoint at addr ("host:port") for
// path and returns an error unless it answers 200 (the -l / -r flags).
func Probe(ctx context.Context, addr, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("calico-kube-controllers health %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("calico-kube-controllers health %s: %s", path, resp.Status)
	}
	return nil
}
