package controllers

import (
	"log/slog"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/logging"
)

// envOverrides are the variables that override a setting of the
// KubeControllersConfiguration; status.environmentVars lists those set.
var envOverrides = []string{"ENABLED_CONTROLLERS", "LEAK_GRACE_PERIOD", "RECONCILER_PERIOD", "PROMETHEUS_METRICS_PORT", "LOG_LEVEL"}

// resolve is Calico's precedence for the settings the resource covers:
// defaults, then spec (nil when the resource is absent), then the
// environment variables that are set. It returns static with those
// settings replaced (the lease, identity, datastore type and workers are
// the caller's) and the status that reports them. Only the environment can
// make it fail: spec is validated by the caller.
func resolve(static Config, spec *v3.KubeControllersConfigurationSpec, getenv func(string) string) (Config, v3.KubeControllersConfigurationStatus, error) {
	c := baseConfig()
	if spec != nil {
		applyKCC(&c, spec)
	}
	if err := applyEnv(&c, getenv); err != nil {
		return static, v3.KubeControllersConfigurationStatus{}, err
	}
	out := static
	out.Enabled, out.LeakGracePeriod, out.ReconcilerPeriod, out.Periods, out.MetricsPort =
		c.Enabled, c.LeakGracePeriod, c.ReconcilerPeriod, c.Periods, c.MetricsPort
	out = out.withDefaults()
	return out, runningStatus(out, getenv), nil
}

// applyKCC takes the enabled controllers (a section present = enabled),
// their reconcile periods, the leak grace period and the metrics port from
// spec. Settings Tricolor does not implement (syncLabels, host endpoints,
// loadBalancer, compaction, healthChecks, logSeverityScreen) are ignored;
// the status shows what runs instead.
func applyKCC(c *Config, spec *v3.KubeControllersConfigurationSpec) {
	ctl := spec.Controllers
	periods := map[string]*metav1.Duration{}
	if n := ctl.Node; n != nil {
		periods[ControllerNode] = n.ReconcilerPeriod
		if n.LeakGracePeriod != nil {
			c.LeakGracePeriod = n.LeakGracePeriod.Duration
			if c.LeakGracePeriod == 0 {
				c.LeakGracePeriod = -1 // Calico: 0 disables IP garbage collection
			}
		}
	}
	if p := ctl.Policy; p != nil {
		periods[ControllerPolicy] = p.ReconcilerPeriod
	}
	if p := ctl.Namespace; p != nil {
		periods[ControllerNamespace] = p.ReconcilerPeriod
	}
	if p := ctl.ServiceAccount; p != nil {
		periods[ControllerServiceAccount] = p.ReconcilerPeriod
	}
	if p := ctl.WorkloadEndpoint; p != nil {
		periods[ControllerWorkloadEndpoint] = p.ReconcilerPeriod
	}
	c.Enabled, c.Periods = nil, map[string]time.Duration{}
	for _, name := range allControllers {
		p, present := periods[name]
		if !present {
			continue
		}
		c.Enabled = append(c.Enabled, name)
		if p != nil && p.Duration > 0 {
			c.Periods[name] = p.Duration
		}
	}
	if spec.PrometheusMetricsPort != nil {
		c.MetricsPort = *spec.PrometheusMetricsPort
	}
}

// runningStatus is status.runningConfig and status.environmentVars for
// c: only what actually runs (a controller skipped with the Kubernetes
// datastore is absent; settings Tricolor does not implement are left
// out), and the overriding variables that are set, plus DATASTORE_TYPE
// when it is kubernetes (it removes the etcd-only controllers), as Calico
// reports it.
func runningStatus(c Config, getenv func(string) string) v3.KubeControllersConfigurationStatus {
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	port := c.MetricsPort
	rc := v3.KubeControllersConfigurationSpec{
		LogSeverityScreen:     levelName(getenv("LOG_LEVEL")),
		HealthChecks:          "Enabled", // /liveness and /readiness are always served
		PrometheusMetricsPort: &port,
	}
	ctl := &rc.Controllers
	for _, name := range c.running() {
		p := dur(c.period(name))
		switch name {
		case ControllerNode:
			ctl.Node = &v3.NodeControllerConfig{ReconcilerPeriod: p, LeakGracePeriod: dur(max(c.LeakGracePeriod, 0))}
		case ControllerPolicy:
			ctl.Policy = &v3.PolicyControllerConfig{ReconcilerPeriod: p}
		case ControllerNamespace:
			ctl.Namespace = &v3.NamespaceControllerConfig{ReconcilerPeriod: p}
		case ControllerServiceAccount:
			ctl.ServiceAccount = &v3.ServiceAccountControllerConfig{ReconcilerPeriod: p}
		case ControllerWorkloadEndpoint:
			ctl.WorkloadEndpoint = &v3.WorkloadEndpointControllerConfig{ReconcilerPeriod: p}
		}
	}
	st := v3.KubeControllersConfigurationStatus{RunningConfig: rc}
	env := map[string]string{}
	for _, k := range envOverrides {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	if v := getenv("DATASTORE_TYPE"); strings.EqualFold(v, "kubernetes") {
		env["DATASTORE_TYPE"] = v
	}
	if len(env) > 0 {
		st.EnvironmentVars = env
	}
	return st
}

// levelName is the log level in effect (LOG_LEVEL) in Calico's spelling.
func levelName(env string) string {
	switch logging.Level(env) {
	case slog.LevelDebug:
		return "Debug"
	case slog.LevelWarn:
		return "Warning"
	case slog.LevelError:
		return "Error"
	}
	return "Info"
}
