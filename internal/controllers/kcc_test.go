package controllers

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// Defaults, then KubeControllersConfiguration "default", then the
// environment: each layer overrides only what it sets.
func TestLoadConfig_KubeControllersConfigurationThenEnvironment(t *testing.T) {
	ctx := context.Background()
	be := memory.New()
	defer be.Close()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := LoadConfig(ctx, be, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Enabled, []string{"node"}) || c.MetricsPort != 9094 {
		t.Errorf("without a KubeControllersConfiguration: %+v", c)
	}

	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = "default"
	port := 9095
	kcc.Spec.PrometheusMetricsPort = &port
	kcc.Spec.Controllers.Node = &v3.NodeControllerConfig{LeakGracePeriod: &metav1.Duration{Duration: 30 * time.Second}}
	kcc.Spec.Controllers.Policy = &v3.PolicyControllerConfig{}
	b, _ := json.Marshal(kcc)
	if _, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindKubeControllersConfiguration, Name: "default"}, Value: b}); err != nil {
		t.Fatal(err)
	}
	c, err = LoadConfig(ctx, be, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Enabled, []string{"node", "policy"}) || c.MetricsPort != 9095 || c.LeakGracePeriod != 30*time.Second {
		t.Errorf("from the KubeControllersConfiguration: %+v", c)
	}
	c, err = LoadConfig(ctx, be, env(map[string]string{"ENABLED_CONTROLLERS": "node", "LEAK_GRACE_PERIOD": "0"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Enabled, []string{"node"}) || c.LeakGracePeriod >= 0 || c.MetricsPort != 9095 {
		t.Errorf("environment over the KubeControllersConfiguration: %+v", c)
	}
}
