package controllers

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Controller names (Calico's ENABLED_CONTROLLERS values).
const (
	ControllerNode             = "node"
	ControllerPolicy           = "policy"
	ControllerNamespace        = "namespace"
	ControllerServiceAccount   = "serviceaccount"
	ControllerWorkloadEndpoint = "workloadendpoint"
)

// allControllers lists every controller this package has.
var allControllers = []string{ControllerNode, ControllerPolicy, ControllerNamespace, ControllerServiceAccount, ControllerWorkloadEndpoint}

// etcdOnly are the mirror controllers: with the Kubernetes datastore Calico
// reads those objects from the API directly, so they have nothing to do.
var etcdOnly = []string{ControllerPolicy, ControllerNamespace, ControllerServiceAccount, ControllerWorkloadEndpoint}

// Defaults, in one place (Calico's values where Calico has one).
const (
	DefaultEnabledControllers = "node"
	DefaultLeakGracePeriod    = 15 * time.Minute
	DefaultReconcilerPeriod   = 5 * time.Minute
	DefaultMetricsPort        = 9094
	DefaultLeaseName          = "calico-kube-controllers"
	DefaultLeaseNamespace     = "kube-system"
	DefaultLeaseDuration      = 15 * time.Second
	DefaultRenewDeadline      = 10 * time.Second
	DefaultRetryPeriod        = 2 * time.Second
	DefaultWorkers            = 2
	// DefaultHealthCheckPeriod is how often, with health checks enabled,
	// the datastore and the API server are checked (Calico's 10 s; a
	// failure is checked again after 2 s).
	DefaultHealthCheckPeriod = 10 * time.Second
)

// Config configures the controllers. Zero durations take the defaults.
type Config struct {
	// Enabled are the controllers to run (ENABLED_CONTROLLERS).
	Enabled []string
	// Kubernetes is true with DATASTORE_TYPE=kubernetes: the etcd-only
	// mirror controllers are skipped, and Calico Nodes are the Kubernetes
	// Nodes (nothing to delete).
	Kubernetes bool
	// LeakGracePeriod is how long an allocation must look leaked before
	// IPAM GC releases it (LEAK_GRACE_PERIOD; Calico's
	// KubeControllersConfiguration node.leakGracePeriod, default 15m;
	// "0" in the environment, or a negative value here, disables IPAM GC).
	LeakGracePeriod time.Duration
	// ReconcilerPeriod is how often every controller re-lists everything
	// and IPAM GC runs (RECONCILER_PERIOD, default 5m), unless Periods
	// names the controller.
	ReconcilerPeriod time.Duration
	// Periods are per-controller reconcile periods (the resource's
	// controllers.<name>.reconcilerPeriod); RECONCILER_PERIOD clears them.
	Periods map[string]time.Duration
	// MetricsPort serves /metrics, /liveness and /readiness
	// (PROMETHEUS_METRICS_PORT, default 9094; 0 disables).
	MetricsPort int
	// SyncLabels copies each Kubernetes Node's labels onto its Calico
	// Node (etcd mode only: with the Kubernetes datastore the Calico Node
	// is the Kubernetes Node). SYNC_NODE_LABELS; the resource's
	// controllers.node.syncLabels; ConfigFromEnv's default is true, as
	// Calico's.
	SyncLabels bool
	// AutoHostEndpoints keeps one host endpoint "<node>-auto-hep"
	// (interfaceName "*") per Calico Node (AUTO_HOST_ENDPOINTS; the
	// resource's controllers.node.hostEndpoint.autoCreate, default false).
	// The node controller deletes the ones it created whenever this is
	// false.
	AutoHostEndpoints bool
	// NoDefaultHostEndpoint is the resource's
	// hostEndpoint.createDefaultHostEndpoint: Disabled: no "<node>-auto-hep"
	// even with AutoHostEndpoints.
	NoDefaultHostEndpoint bool
	// NoHealthChecks turns off the periodic datastore and API server checks
	// behind /liveness and /readiness (HEALTH_ENABLED=false; the resource's
	// healthChecks: Disabled): the probes then answer 200 once started.
	NoHealthChecks bool
	// HealthCheckPeriod spaces the health checks (default 10s).
	HealthCheckPeriod time.Duration
	// LeaseName, LeaseNamespace name the leader-election Lease
	// (LEADER_ELECTION_LEASE_NAME, POD_NAMESPACE). Identity is this
	// instance's holder name (POD_NAME, else the host name).
	LeaseName, LeaseNamespace, Identity string
	// LeaseDuration, RenewDeadline, RetryPeriod tune leader election.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Workers per controller (default 2).
	Workers int
	// Environment, when set, is the process environment (os.Getenv) and
	// makes the Manager follow the KubeControllersConfiguration "default"
	// (kccsync.go): created with Calico's defaults when missing; Enabled,
	// LeakGracePeriod, ReconcilerPeriod, Periods, MetricsPort, SyncLabels,
	// AutoHostEndpoints, NoDefaultHostEndpoint and NoHealthChecks are then
	// resolved as defaults < the resource < the Calico variables set here,
	// its status is written while leading, and a change restarts the
	// controllers in-process. Nil: the Config is used as given and the
	// resource is never read (tests, embedding).
	Environment func(string) string
}

// ConfigFromEnv reads Calico's environment variables over the defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := baseConfig()
	err := applyEnv(&c, getenv)
	return c, err
}

// baseConfig is the configuration before any setting is read.
func baseConfig() Config {
	return Config{Enabled: []string{DefaultEnabledControllers}, MetricsPort: DefaultMetricsPort, SyncLabels: true}
}

// applyEnv overrides c with the variables that are set.
func applyEnv(c *Config, getenv func(string) string) error {
	c.Kubernetes = strings.EqualFold(getenv("DATASTORE_TYPE"), "kubernetes")
	for env, dst := range map[string]*string{"LEADER_ELECTION_LEASE_NAME": &c.LeaseName, "POD_NAMESPACE": &c.LeaseNamespace, "POD_NAME": &c.Identity} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	if enabled := getenv("ENABLED_CONTROLLERS"); enabled != "" {
		c.Enabled = nil
		for _, s := range strings.Split(enabled, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			if !slices.Contains(allControllers, s) {
				return fmt.Errorf("ENABLED_CONTROLLERS: unknown controller %q; choose from %s", s, strings.Join(allControllers, ","))
			}
			if !slices.Contains(c.Enabled, s) {
				c.Enabled = append(c.Enabled, s)
			}
		}
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"LEAK_GRACE_PERIOD", &c.LeakGracePeriod}, {"RECONCILER_PERIOD", &c.ReconcilerPeriod}} {
		if s := getenv(d.env); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%s %q is not a duration; use a value like 15m or 30s", d.env, s)
			}
			*d.dst = v
		}
	}
	if getenv("RECONCILER_PERIOD") != "" {
		c.Periods = nil // the environment wins for every controller
	}
	if getenv("LEAK_GRACE_PERIOD") != "" && c.LeakGracePeriod == 0 {
		c.LeakGracePeriod = -1 // Calico: 0 disables IP garbage collection
	}
	for _, b := range []struct {
		env  string
		dst  *bool
		flip bool
	}{{"SYNC_NODE_LABELS", &c.SyncLabels, false}, {"HEALTH_ENABLED", &c.NoHealthChecks, true}} {
		if s := getenv(b.env); s != "" {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("%s %q is not a boolean; use true or false", b.env, s)
			}
			*b.dst = v != b.flip
		}
	}
	switch s := getenv("AUTO_HOST_ENDPOINTS"); strings.ToLower(s) {
	case "":
	case "enabled":
		c.AutoHostEndpoints, c.NoDefaultHostEndpoint = true, false
	case "disabled":
		c.AutoHostEndpoints = false
	default:
		return fmt.Errorf("AUTO_HOST_ENDPOINTS %q is not valid; use Enabled or Disabled", s)
	}
	if s := getenv("PROMETHEUS_METRICS_PORT"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("PROMETHEUS_METRICS_PORT %q is not a port; use 0-65535 (0 disables)", s)
		}
		c.MetricsPort = p
	}
	return nil
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	setDur(&c.LeakGracePeriod, DefaultLeakGracePeriod)
	if c.ReconcilerPeriod <= 0 { // a ticker needs a positive period
		c.ReconcilerPeriod = DefaultReconcilerPeriod
	}
	setDur(&c.LeaseDuration, DefaultLeaseDuration)
	setDur(&c.RenewDeadline, DefaultRenewDeadline)
	setDur(&c.RetryPeriod, DefaultRetryPeriod)
	if c.LeaseName == "" {
		c.LeaseName = DefaultLeaseName
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = DefaultLeaseNamespace
	}
	if c.Identity == "" {
		c.Identity, _ = os.Hostname()
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.HealthCheckPeriod <= 0 {
		c.HealthCheckPeriod = DefaultHealthCheckPeriod
	}
	return c
}

// enabled reports whether controller name is enabled.
func (c Config) enabled(name string) bool { return slices.Contains(c.Enabled, name) }

// running are the enabled controllers that have work to do: with the
// Kubernetes datastore the etcd-only mirrors are left out.
func (c Config) running() []string {
	var out []string
	for _, name := range allControllers {
		if c.enabled(name) && !(c.Kubernetes && slices.Contains(etcdOnly, name)) {
			out = append(out, name)
		}
	}
	return out
}

// sameSettings reports whether a and b run the same controllers the same
// way (the settings the KubeControllersConfiguration covers).
func sameSettings(a, b Config) bool {
	return slices.Equal(a.Enabled, b.Enabled) && a.LeakGracePeriod == b.LeakGracePeriod &&
		a.ReconcilerPeriod == b.ReconcilerPeriod && maps.Equal(a.Periods, b.Periods) && a.MetricsPort == b.MetricsPort &&
		a.nodeSettings() == b.nodeSettings() && a.NoHealthChecks == b.NoHealthChecks
}

// nodeSettings are the node controller's label and host endpoint
// switches as they run: label sync only with etcd.
type nodeSettings struct{ syncLabels, autoHEP bool }

func (c Config) nodeSettings() nodeSettings {
	return nodeSettings{syncLabels: c.SyncLabels && !c.Kubernetes, autoHEP: c.AutoHostEndpoints && !c.NoDefaultHostEndpoint}
}

// period is how often controller name resyncs.
func (c Config) period(name string) time.Duration {
	if p := c.Periods[name]; p > 0 {
		return p
	}
	return c.ReconcilerPeriod
}
