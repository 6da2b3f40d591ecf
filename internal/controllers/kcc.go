package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// LoadConfig is Calico's precedence: defaults, then the
// KubeControllersConfiguration "default" when it exists, then the
// environment variables that are set.
func LoadConfig(ctx context.Context, be datastore.Backend, getenv func(string) string) (Config, error) {
	c := baseConfig()
	kv, err := be.Get(ctx, datastore.Key{Kind: v3.KindKubeControllersConfiguration, Name: v3.KubeControllersConfigurationName})
	switch {
	case errors.Is(err, datastore.ErrNotFound):
	case err != nil:
		return c, fmt.Errorf("read kubecontrollersconfiguration %q: %w", v3.KubeControllersConfigurationName, err)
	default:
		var kcc v3.KubeControllersConfiguration
		if err := json.Unmarshal(kv.Value, &kcc); err != nil {
			return c, fmt.Errorf("kubecontrollersconfiguration %q: %w", v3.KubeControllersConfigurationName, err)
		}
		applyKCC(&c, &kcc.Spec)
	}
	return c, applyEnv(&c, getenv)
}

// applyKCC takes the enabled controllers (a section present = enabled),
// the node controller's periods and the metrics port from spec.
func applyKCC(c *Config, spec *v3.KubeControllersConfigurationSpec) {
	ctl := spec.Controllers
	c.Enabled = nil
	present := map[string]bool{
		ControllerNode: ctl.Node != nil, ControllerPolicy: ctl.Policy != nil, ControllerNamespace: ctl.Namespace != nil,
		ControllerServiceAccount: ctl.ServiceAccount != nil, ControllerWorkloadEndpoint: ctl.WorkloadEndpoint != nil,
	}
	for _, name := range allControllers {
		if present[name] {
			c.Enabled = append(c.Enabled, name)
		}
	}
	if n := ctl.Node; n != nil {
		if n.LeakGracePeriod != nil {
			c.LeakGracePeriod = n.LeakGracePeriod.Duration
			if c.LeakGracePeriod == 0 {
				c.LeakGracePeriod = -1 // Calico: 0 disables IP garbage collection
			}
		}
		if n.ReconcilerPeriod != nil {
			c.ReconcilerPeriod = n.ReconcilerPeriod.Duration
		}
	}
	if spec.PrometheusMetricsPort != nil {
		c.MetricsPort = *spec.PrometheusMetricsPort
	}
}
