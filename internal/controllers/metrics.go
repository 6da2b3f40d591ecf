package controllers

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controllers' Prometheus series, on their own registry
// so that two managers in one process (tests) never collide.
type metrics struct {
	registry   *prometheus.Registry
	reconciles *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	leader     prometheus.Gauge
	ipamGC     *prometheus.CounterVec
	nodes      prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tricolor_kube_controllers_reconciles_total",
			Help: "Reconciles by controller and result (ok or error).",
		}, []string{"controller", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tricolor_kube_controllers_reconcile_seconds",
			Help:    "Time to reconcile one key.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"controller"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tricolor_kube_controllers_is_leader",
			Help: "1 while this instance holds the leader Lease.",
		}),
		ipamGC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipam_allocations_gc_reclamations",
			Help: "IPAM repairs by IPAM garbage collection, by kind (ip, handle, affinity, block).",
		}, []string{"kind"}),
		nodes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tricolor_kube_controllers_nodes_cleaned_total",
			Help: "Deleted Kubernetes Nodes whose Calico data was cleaned up.",
		}),
	}
	m.registry.MustRegister(m.reconciles, m.duration, m.leader, m.ipamGC, m.nodes,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(controller string, err error, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.reconciles.WithLabelValues(controller, result).Inc()
	m.duration.WithLabelValues(controller).Observe(d.Seconds())
}
