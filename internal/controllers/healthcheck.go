package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Health check timeouts: Calico's 4 s per request, doubled after each
// failing round up to 16 s; a failing round is checked again after
// healthRetry (or the period, if shorter).
const (
	healthTimeout    = 4 * time.Second
	healthMaxTimeout = 16 * time.Second
	healthRetry      = 2 * time.Second
)

// Health conditions, named as in Calico's status file.
const (
	condDatastore = "CalicoDatastore"
	condAPIServer = "KubeAPIServer"
)

// healthChecks are Calico's kube-controllers health checks
// (healthChecks: Enabled, HEALTH_ENABLED): every period the Calico
// datastore is read and the API server's /healthz asked, leader or not.
// While one fails, /liveness and /readiness answer 503 naming it, so the
// kubelet restarts an instance that has lost its datastore, as Calico's
// check-status does. Disabled, nothing is checked and the probes answer
// 200 once the process has started.
type healthChecks struct {
	enabled atomic.Bool
	mu      sync.Mutex
	failing map[string]string // condition → error; empty when all pass
}

func newHealthChecks() *healthChecks {
	h := &healthChecks{failing: map[string]string{}}
	h.enabled.Store(true)
	return h
}

// setEnabled turns the checks on or off; off forgets past failures.
func (h *healthChecks) setEnabled(on bool) {
	h.enabled.Store(on)
	if !on {
		h.record(map[string]string{})
	}
}

func (h *healthChecks) record(failing map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing = failing
}

// failures lists the failing conditions ("" when all pass or the checks
// are disabled), for the probes' answer.
func (h *healthChecks) failures() string {
	if !h.enabled.Load() {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for c, err := range h.failing {
		out = append(out, c+": "+err)
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// runHealthChecks checks once, then every period (sooner after a failure)
// until ctx ends.
func (m *Manager) runHealthChecks(ctx context.Context, period time.Duration) {
	timeout := healthTimeout
	for {
		wait := period
		if m.checks.enabled.Load() {
			failing := m.checkOnce(ctx, timeout)
			if ctx.Err() != nil {
				return
			}
			if m.checks.enabled.Load() { // not disabled meanwhile
				m.checks.record(failing)
			}
			if len(failing) > 0 {
				m.log.Warn("health check failed; liveness and readiness report it", "failing", m.checks.failures())
				timeout = min(2*timeout, healthMaxTimeout)
				wait = min(period, healthRetry)
			} else {
				timeout = healthTimeout
			}
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// checkOnce reads the datastore and asks the API server's /healthz, each
// within timeout, and returns the failing conditions.
func (m *Manager) checkOnce(ctx context.Context, timeout time.Duration) map[string]string {
	failing := map[string]string{}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	_, err := m.backend.Get(dctx, datastore.Key{Kind: v3.KindClusterInformation, Name: "default"})
	cancel()
	if err != nil && !errors.Is(err, datastore.ErrNotFound) {
		failing[condDatastore] = fmt.Sprintf("cannot read the Calico datastore: %v", err)
	}
	kctx, cancel := context.WithTimeout(ctx, timeout)
	code := 0
	res := m.kube.Discovery().RESTClient().Get().AbsPath("/healthz").Do(kctx).StatusCode(&code)
	cancel()
	if code != http.StatusOK {
		failing[condAPIServer] = fmt.Sprintf("the API server's /healthz answered %d: %v", code, res.Error())
	}
	return failing
}
