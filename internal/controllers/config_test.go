package controllers

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want func(Config) bool
		err  string
	}{
		{"defaults", nil, func(c Config) bool {
			c = c.withDefaults()
			return strings.Join(c.Enabled, ",") == "node" && c.LeakGracePeriod == 15*time.Minute &&
				c.MetricsPort == 9094 && c.LeaseNamespace == "kube-system" && !c.Kubernetes
		}, ""},
		{"Calico's full list", map[string]string{"ENABLED_CONTROLLERS": "node, policy,namespace,serviceaccount,workloadendpoint,node"},
			func(c Config) bool { return len(c.Enabled) == 5 }, ""},
		{"kubernetes datastore", map[string]string{"DATASTORE_TYPE": "kubernetes"}, func(c Config) bool { return c.Kubernetes }, ""},
		{"grace 0 disables GC", map[string]string{"LEAK_GRACE_PERIOD": "0"}, func(c Config) bool { return c.withDefaults().LeakGracePeriod < 0 }, ""},
		{"short grace", map[string]string{"LEAK_GRACE_PERIOD": "30s"}, func(c Config) bool { return c.withDefaults().LeakGracePeriod == 30*time.Second }, ""},
		{"unknown controller", map[string]string{"ENABLED_CONTROLLERS": "node,loadbalancer"}, nil, `unknown controller "loadbalancer"`},
		{"bad duration", map[string]string{"RECONCILER_PERIOD": "5 minutes"}, nil, "RECONCILER_PERIOD"},
		{"bad port", map[string]string{"PROMETHEUS_METRICS_PORT": "99999"}, nil, "PROMETHEUS_METRICS_PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}
