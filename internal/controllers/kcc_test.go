package controllers

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Defaults, then the KubeControllersConfiguration spec, then the
// environment: each layer overrides only what it sets, and the status
// reports what runs and which variables overrode the spec.
func TestResolve_DefaultsThenSpecThenEnvironment(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	port := 9095
	spec := &v3.KubeControllersConfigurationSpec{
		PrometheusMetricsPort: &port,
		Controllers: v3.ControllersConfig{
			Node:   &v3.NodeControllerConfig{LeakGracePeriod: d("30s"), ReconcilerPeriod: d("1m")},
			Policy: &v3.PolicyControllerConfig{ReconcilerPeriod: d("2m")},
		},
	}
	for _, tc := range []struct {
		name       string
		kubernetes bool
		spec       *v3.KubeControllersConfigurationSpec
		env        map[string]string
		enabled    []string
		grace      time.Duration
		periods    map[string]time.Duration
		port       int
		labelsOff  bool   // !Config.SyncLabels (the datastore type does not change it)
		autoHEP    bool   // Config.AutoHostEndpoints
		noHealth   bool   // Config.NoHealthChecks
		status     string // status as JSON
	}{{
		name: "no resource, no environment", enabled: []string{"node"}, grace: 15 * time.Minute,
		periods: map[string]time.Duration{"node": 5 * time.Minute}, port: 9094,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Enabled","prometheusMetricsPort":9094,` +
			`"controllers":{"node":{"reconcilerPeriod":"5m0s","syncLabels":"Enabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"15m0s"}}}}`,
	}, {
		name: "the spec, etcd", spec: spec, enabled: []string{"node", "policy"}, grace: 30 * time.Second,
		periods: map[string]time.Duration{"node": time.Minute, "policy": 2 * time.Minute}, port: 9095,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Enabled","prometheusMetricsPort":9095,` +
			`"controllers":{"node":{"reconcilerPeriod":"1m0s","syncLabels":"Enabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"30s"},"policy":{"reconcilerPeriod":"2m0s"}}}}`,
	}, {
		name: "the spec, kubernetes datastore: the policy mirror does not run", kubernetes: true, spec: spec,
		env: map[string]string{"DATASTORE_TYPE": "kubernetes"}, enabled: []string{"node", "policy"}, grace: 30 * time.Second,
		periods: map[string]time.Duration{"node": time.Minute}, port: 9095,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Enabled","prometheusMetricsPort":9095,` +
			`"controllers":{"node":{"reconcilerPeriod":"1m0s","syncLabels":"Disabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"30s"}}},"environmentVars":{"DATASTORE_TYPE":"kubernetes"}}`,
	}, {
		name: "the environment wins", spec: spec,
		env:     map[string]string{"ENABLED_CONTROLLERS": "node,namespace", "LEAK_GRACE_PERIOD": "0", "RECONCILER_PERIOD": "3m", "LOG_LEVEL": "warning"},
		enabled: []string{"node", "namespace"}, grace: -1,
		periods: map[string]time.Duration{"node": 3 * time.Minute, "namespace": 3 * time.Minute}, port: 9095,
		status: `{"runningConfig":{"logSeverityScreen":"Warning","healthChecks":"Enabled","prometheusMetricsPort":9095,` +
			`"controllers":{"node":{"reconcilerPeriod":"3m0s","syncLabels":"Enabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"0s"},"namespace":{"reconcilerPeriod":"3m0s"}}},` +
			`"environmentVars":{"ENABLED_CONTROLLERS":"node,namespace","LEAK_GRACE_PERIOD":"0","LOG_LEVEL":"warning","RECONCILER_PERIOD":"3m"}}`,
	}, {
		name:    "leakGracePeriod 0 disables IPAM GC",
		spec:    &v3.KubeControllersConfigurationSpec{Controllers: v3.ControllersConfig{Node: &v3.NodeControllerConfig{LeakGracePeriod: d("0s")}}},
		enabled: []string{"node"}, grace: -1, periods: map[string]time.Duration{"node": 5 * time.Minute}, port: 9094,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Enabled","prometheusMetricsPort":9094,` +
			`"controllers":{"node":{"reconcilerPeriod":"5m0s","syncLabels":"Enabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"0s"}}}}`,
	}, {
		name: "the node controller's switches and healthChecks from the spec",
		spec: &v3.KubeControllersConfigurationSpec{HealthChecks: "Disabled", Controllers: v3.ControllersConfig{Node: &v3.NodeControllerConfig{
			SyncLabels: "Disabled", HostEndpoint: &v3.AutoHostEndpointConfig{AutoCreate: "Enabled"}}}},
		enabled: []string{"node"}, grace: 15 * time.Minute, periods: map[string]time.Duration{"node": 5 * time.Minute}, port: 9094,
		labelsOff: true, autoHEP: true, noHealth: true,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Disabled","prometheusMetricsPort":9094,` +
			`"controllers":{"node":{"reconcilerPeriod":"5m0s","syncLabels":"Disabled","hostEndpoint":{"autoCreate":"Enabled","createDefaultHostEndpoint":"Enabled"},"leakGracePeriod":"15m0s"}}}}`,
	}, {
		name: "the environment wins for the switches too; SYNC_NODE_LABELS is not read with the kubernetes datastore", kubernetes: true,
		spec: &v3.KubeControllersConfigurationSpec{Controllers: v3.ControllersConfig{Node: &v3.NodeControllerConfig{
			HostEndpoint: &v3.AutoHostEndpointConfig{AutoCreate: "Enabled", CreateDefaultHostEndpoint: v3.DefaultHostEndpointsDisabled}}}},
		env:     map[string]string{"DATASTORE_TYPE": "kubernetes", "AUTO_HOST_ENDPOINTS": "disabled", "HEALTH_ENABLED": "false", "SYNC_NODE_LABELS": "true"},
		enabled: []string{"node"}, grace: 15 * time.Minute, periods: map[string]time.Duration{"node": 5 * time.Minute}, port: 9094,
		autoHEP: false, noHealth: true,
		status: `{"runningConfig":{"logSeverityScreen":"Info","healthChecks":"Disabled","prometheusMetricsPort":9094,` +
			`"controllers":{"node":{"reconcilerPeriod":"5m0s","syncLabels":"Disabled","hostEndpoint":{"autoCreate":"Disabled","createDefaultHostEndpoint":"Disabled"},"leakGracePeriod":"15m0s"}}},` +
			`"environmentVars":{"AUTO_HOST_ENDPOINTS":"disabled","DATASTORE_TYPE":"kubernetes","HEALTH_ENABLED":"false"}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			static := Config{Kubernetes: tc.kubernetes, LeaseName: "lease", Identity: "me"}.withDefaults()
			c, st, err := resolve(static, tc.spec, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Enabled, tc.enabled) || c.LeakGracePeriod != tc.grace || c.MetricsPort != tc.port {
				t.Errorf("enabled %v grace %v port %d; want %v %v %d", c.Enabled, c.LeakGracePeriod, c.MetricsPort, tc.enabled, tc.grace, tc.port)
			}
			for _, name := range c.running() {
				if c.period(name) != tc.periods[name] {
					t.Errorf("%s period %v, want %v", name, c.period(name), tc.periods[name])
				}
			}
			if c.SyncLabels == tc.labelsOff {
				t.Errorf("SyncLabels %v, want %v", c.SyncLabels, !tc.labelsOff)
			}
			if c.AutoHostEndpoints != tc.autoHEP || c.NoHealthChecks != tc.noHealth {
				t.Errorf("AutoHostEndpoints %v NoHealthChecks %v; want %v %v", c.AutoHostEndpoints, c.NoHealthChecks, tc.autoHEP, tc.noHealth)
			}
			if len(c.running()) != len(tc.periods) {
				t.Errorf("running %v, want %d controllers", c.running(), len(tc.periods))
			}
			if c.LeaseName != "lease" || c.Identity != "me" || c.Kubernetes != tc.kubernetes {
				t.Errorf("static settings not kept: %+v", c)
			}
			got, _ := json.Marshal(st)
			if string(got) != tc.status {
				t.Errorf("status\n got %s\nwant %s", got, tc.status)
			}
		})
	}
	for k, v := range map[string]string{"LEAK_GRACE_PERIOD": "soon", "SYNC_NODE_LABELS": "maybe", "HEALTH_ENABLED": "yes please", "AUTO_HOST_ENDPOINTS": "on"} {
		_, _, err := resolve(Config{}, spec, func(name string) string { return map[string]string{k: v}[name] })
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: error %v, want one naming the variable", k, v, err)
		}
	}
}
