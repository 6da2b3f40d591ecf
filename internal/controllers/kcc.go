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
var envOverrides = []string{"ENABLED_CONTROLLERS", "LEAK_GRACE_PERIOD", "RECONCILER_PERIOD", "PROMETHEUS_METRICS_PORT", "LOG_LEVEL",
	"HEALTH_ENABLED", "SYNC_NODE_LABELS", "AUTO_HOST_ENDPOINTS"}

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
	out.SyncLabels, out.AutoHostEndpoints, out.NoDefaultHostEndpoint, out.NoHealthChecks =
		c.SyncLabels, c.AutoHostEndpoints, c.NoDefaultHostEndpoint, c.NoHealthChecks
	out = out.withDefaults()
	return out, runningStatus(out, getenv), nil
}

// applyKCC takes from spec the enabled controllers (a section present =
// enabled), their reconcile periods, the node controller's leak grace
// period, syncLabels (anything but Disabled enables it, as in Calico; the
// Kubernetes datastore turns it off later), hostEndpoint.autoCreate and
// createDefaultHostEndpoint, healthChecks (anything but Disabled enables
// them) and the metrics port. Settings Tricolor does not implement
// (hostEndpoint.templates, loadBalancer, etcdV3CompactionPeriod,
// logSeverityScreen, debugProfilePort) are ignored; the status shows what
// runs instead.
func applyKCC(c *Config, spec *v3.KubeControllersConfigurationSpec) {
	ctl := spec.Controllers
	periods := map[string]*metav1.Duration{}
	c.NoHealthChecks = spec.HealthChecks == "Disabled"
	if n := ctl.Node; n != nil {
		periods[ControllerNode] = n.ReconcilerPeriod
		c.SyncLabels = n.SyncLabels != "Disabled"
		if h := n.HostEndpoint; h != nil {
			c.AutoHostEndpoints = h.AutoCreate == "Enabled"
			c.NoDefaultHostEndpoint = h.CreateDefaultHostEndpoint == v3.DefaultHostEndpointsDisabled
		}
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
// datastore is absent; syncLabels is Disabled there, as in Calico;
// settings Tricolor does not implement are left out), and the overriding
// variables that are set, plus DATASTORE_TYPE when it is kubernetes (it
// removes the etcd-only controllers and label sync), as Calico reports it.
func runningStatus(c Config, getenv func(string) string) v3.KubeControllersConfigurationStatus {
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	port := c.MetricsPort
	rc := v3.KubeControllersConfigurationSpec{
		LogSeverityScreen:     levelName(getenv("LOG_LEVEL")),
		HealthChecks:          enabledName(!c.NoHealthChecks),
		PrometheusMetricsPort: &port,
	}
	ctl := &rc.Controllers
	for _, name := range c.running() {
		p := dur(c.period(name))
		switch name {
		case ControllerNode:
			ns := c.nodeSettings()
			ctl.Node = &v3.NodeControllerConfig{ReconcilerPeriod: p, LeakGracePeriod: dur(max(c.LeakGracePeriod, 0)),
				SyncLabels: enabledName(ns.syncLabels),
				HostEndpoint: &v3.AutoHostEndpointConfig{AutoCreate: enabledName(c.AutoHostEndpoints),
					CreateDefaultHostEndpoint: v3.DefaultHostEndpointMode(enabledName(!c.NoDefaultHostEndpoint))}}
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
		if k == "SYNC_NODE_LABELS" && c.Kubernetes {
			continue // not read with the Kubernetes datastore (Calico's report)
		}
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

// enabledName is Calico's spelling of a switch.
func enabledName(on bool) string {
	if on {
		return "Enabled"
	}
	return "Disabled"
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
