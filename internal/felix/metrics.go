package felix

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/dataplane"
)

// metrics are Felix's Prometheus series, on a registry of their own (no
// global state). Names follow Felix's where Felix has the series.
type metrics struct {
	reg          *prometheus.Registry
	applyTime    prometheus.Histogram
	calcFlush    prometheus.Histogram
	endpoints    prometheus.Gauge
	policies     prometheus.Gauge
	profiles     prometheus.Gauge
	ipsets       prometheus.Gauge
	resyncs      prometheus.Counter
	driftRepairs prometheus.Counter
	applyErrors  prometheus.Counter
}

func newMetrics() *metrics {
	buckets := prometheus.ExponentialBuckets(0.0005, 2, 16) // 0.5 ms .. ~16 s
	m := &metrics{
		reg: prometheus.NewRegistry(),
		applyTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "felix_int_dataplane_apply_time_seconds",
			Help: "Time to apply a batch of changes to the dataplane (nftables transaction included).", Buckets: buckets}),
		calcFlush: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "felix_calc_graph_update_time_seconds",
			Help: "Time the calculation graph takes to absorb a batch of datastore updates and flush.", Buckets: buckets}),
		endpoints: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felix_active_local_endpoints",
			Help: "Workload endpoints on this node programmed in the dataplane."}),
		policies: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felix_active_local_policies",
			Help: "Policies selecting at least one endpoint on this node."}),
		profiles: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felix_active_local_profiles",
			Help: "Profiles used by an endpoint on this node."}),
		ipsets: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felix_ipsets_calico",
			Help: "Calico IP sets programmed (each as an IPv4 and an IPv6 nft set)."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{Name: "felix_nft_resyncs_total",
			Help: "Read-backs of the nftables table to find drift."}),
		driftRepairs: prometheus.NewCounter(prometheus.CounterOpts{Name: "felix_nft_drift_repairs_total",
			Help: "nftables objects found changed behind Felix's back and repaired."}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "felix_int_dataplane_failures_total",
			Help: "Dataplane applies that failed (retried)."}),
	}
	m.reg.MustRegister(m.applyTime, m.calcFlush, m.endpoints, m.policies, m.profiles, m.ipsets, m.resyncs, m.driftRepairs, m.applyErrors)
	return m
}

// observe records the manager's counters after an apply.
func (m *metrics) observe(prev, cur dataplane.PolicyStats) {
	if d := cur.Resyncs - prev.Resyncs; d > 0 {
		m.resyncs.Add(float64(d))
	}
	if d := cur.DriftRepairs - prev.DriftRepairs; d > 0 {
		m.driftRepairs.Add(float64(d))
	}
	m.endpoints.Set(float64(cur.Endpoints))
	m.policies.Set(float64(cur.ActivePolicy))
	m.profiles.Set(float64(cur.ActiveProfile))
	m.ipsets.Set(float64(cur.IPSets))
}

// startMetrics serves /metrics when PrometheusMetricsEnabled is true (off
// by default, as in Felix) on PrometheusMetricsHost:PrometheusMetricsPort
// (Config.MetricsHost and 9091 when unset). A bind failure is logged, not
// fatal: policy enforcement matters more than metrics.
func (f *Felix) startMetrics(ctx context.Context, wg *sync.WaitGroup, spec *v3.FelixConfigurationSpec) {
	if spec.PrometheusMetricsEnabled == nil || !*spec.PrometheusMetricsEnabled {
		return
	}
	host, port := f.cfg.MetricsHost, DefaultMetricsPort
	if spec.PrometheusMetricsHost != "" {
		host = spec.PrometheusMetricsHost
	}
	if spec.PrometheusMetricsPort != nil {
		port = *spec.PrometheusMetricsPort
	}
	if spec.PrometheusGoMetricsEnabled == nil || *spec.PrometheusGoMetricsEnabled {
		_ = f.metrics.reg.Register(collectors.NewGoCollector())
	}
	if spec.PrometheusProcessMetricsEnabled == nil || *spec.PrometheusProcessMetricsEnabled {
		_ = f.metrics.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		f.log.Error("Prometheus metrics disabled: cannot listen (set FELIX_PROMETHEUSMETRICSPORT to a free port)", "address", addr, "err", err)
		return
	}
	bound := ln.Addr()
	f.metricsAddr.Store(&bound)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(f.metrics.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	f.log.Info("Prometheus metrics listening", "address", bound.String())
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Error("Prometheus metrics server stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		_ = srv.Close()
	}()
}
