package controllers

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Started with no KubeControllersConfiguration, the leader creates
// "default" with Calico's defaults for its datastore and writes the
// status: the running configuration (the environment's grace period over
// the spec's, the etcd mirrors only with etcd) and the variables that
// overrode the spec. Deleted, it comes back.
func TestKubeControllersConfiguration_CreatedWhenMissingWithStatus(t *testing.T) {
	onEachDatastore(t, func(t *testing.T, cl *cluster) {
		env := map[string]string{"PROMETHEUS_METRICS_PORT": "0", "LEAK_GRACE_PERIOD": "45m"}
		if cl.kdd {
			env["DATASTORE_TYPE"] = "kubernetes"
		}
		if cl.kcc() != nil {
			t.Fatal("the test needs a datastore without a KubeControllersConfiguration")
		}
		cl.start(Config{Environment: envOf(env)})

		kcc := cl.kccWhen("the status is written", func(k *v3.KubeControllersConfiguration) bool {
			return k.Status.RunningConfig.Controllers.Node != nil
		})
		got, _ := json.Marshal(kcc.Spec)
		want, _ := json.Marshal(v3.DefaultKubeControllersConfigurationSpec(!cl.kdd))
		if string(got) != string(want) {
			t.Errorf("created spec\n got %s\nwant Calico's defaults %s", got, want)
		}
		rc := kcc.Status.RunningConfig
		if n := rc.Controllers.Node; n.LeakGracePeriod.Duration != 45*time.Minute || n.ReconcilerPeriod.Duration != 5*time.Minute {
			t.Errorf("running node controller: leakGracePeriod %v (want 45m from the environment), reconcilerPeriod %v (want 5m from the spec)",
				n.LeakGracePeriod, n.ReconcilerPeriod)
		}
		if mirrors := rc.Controllers.Policy != nil && rc.Controllers.Namespace != nil &&
			rc.Controllers.ServiceAccount != nil && rc.Controllers.WorkloadEndpoint != nil; mirrors == cl.kdd {
			t.Errorf("etcd mirrors running: %v, with the kubernetes datastore: %v", mirrors, cl.kdd)
		}
		if rc.PrometheusMetricsPort == nil || *rc.PrometheusMetricsPort != 0 {
			t.Errorf("running metrics port %v, want 0 from the environment", rc.PrometheusMetricsPort)
		}
		if !maps.Equal(kcc.Status.EnvironmentVars, env) {
			t.Errorf("status.environmentVars %v, want %v", kcc.Status.EnvironmentVars, env)
		}

		if _, err := cl.c.Delete(context.Background(), v3.KindKubeControllersConfiguration, "", v3.KubeControllersConfigurationName, ""); err != nil {
			t.Fatal(err)
		}
		cl.kccWhen("the deleted configuration is recreated with its status", func(k *v3.KubeControllersConfiguration) bool {
			return k.UID != kcc.UID && k.Status.RunningConfig.Controllers.Node != nil
		})
	})
}

// Spec changes take effect in the running process: a shorter
// leakGracePeriod releases a leak the default 15 m was still holding;
// removing the node section stops the node controller (a deleted Node is
// left alone); putting it back starts it again (the Node is cleaned up).
func TestKubeControllersConfiguration_SpecChangesApplyWithoutRestart(t *testing.T) {
	cl := newCluster(t)
	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.node("node-b")
	cl.pod("apps", "leaky", "node-a", nil)
	cl.allocate("k8s-pod-network.leaky", "node-a", "apps", "leaky")
	m := cl.start(Config{Environment: envOf(map[string]string{"PROMETHEUS_METRICS_PORT": "0"})})
	cl.kccWhen("the status is written", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.Controllers.Node != nil
	})

	cl.deletePod("apps", "leaky")
	time.Sleep(3 * time.Second) // the deletion's GC pass has seen the leak
	if !cl.allocated("k8s-pod-network.leaky") {
		t.Fatal("the leak was released under the default 15m grace period")
	}
	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) {
		s.Controllers.Node.LeakGracePeriod = &metav1.Duration{Duration: 2 * time.Second}
	})
	changed := time.Now()
	eventually(t, 30*time.Second, "the leak is released under the new 2s grace period", func() bool {
		return !cl.allocated("k8s-pod-network.leaky")
	})
	if held := time.Since(changed); held < 2*time.Second {
		t.Errorf("released %v after the change, before the new 2s grace period", held)
	}
	cl.kccWhen("the status shows the new grace period", func(k *v3.KubeControllersConfiguration) bool {
		n := k.Status.RunningConfig.Controllers.Node
		return n != nil && n.LeakGracePeriod.Duration == 2*time.Second
	})

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.Controllers.Node = nil })
	cl.kccWhen("the status shows the node controller stopped", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.Controllers.Node == nil && k.Status.RunningConfig.Controllers.Policy != nil
	})
	if err := cl.kube.CoreV1().Nodes().Delete(context.Background(), "node-b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if !cl.exists(datastore.Key{Kind: v3.KindNode, Name: "node-b"}) {
		t.Fatal("the Calico Node of a deleted Node was removed while the node controller was disabled")
	}

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) {
		s.Controllers.Node = &v3.NodeControllerConfig{ReconcilerPeriod: &metav1.Duration{Duration: time.Minute}}
	})
	eventually(t, 30*time.Second, "the re-enabled node controller removes node-b's Calico Node", func() bool {
		return !cl.exists(datastore.Key{Kind: v3.KindNode, Name: "node-b"})
	})
	cl.kccWhen("the status shows the node controller with its new period", func(k *v3.KubeControllersConfiguration) bool {
		n := k.Status.RunningConfig.Controllers.Node
		return n != nil && n.ReconcilerPeriod.Duration == time.Minute
	})
	if !m.IsLeader() {
		t.Error("the manager stopped leading across the configuration changes")
	}
}

// The environment keeps winning over a changed resource (Kubernetes
// datastore): the spec's shorter grace period and its removal of the node
// section change nothing that ENABLED_CONTROLLERS and LEAK_GRACE_PERIOD
// set, while a setting the environment leaves alone (reconcilerPeriod)
// follows the spec; the status names the overriding variables.
func TestKubeControllersConfiguration_EnvironmentStillWins(t *testing.T) {
	cl := startCluster(t, true)
	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.node("node-b")
	cl.pod("apps", "leaky", "node-a", nil)
	cl.allocate("k8s-pod-network.leaky", "node-a", "apps", "leaky")
	env := map[string]string{"ENABLED_CONTROLLERS": "node", "LEAK_GRACE_PERIOD": "1h", "PROMETHEUS_METRICS_PORT": "0", "DATASTORE_TYPE": "kubernetes"}
	cl.start(Config{Environment: envOf(env)})
	cl.kccWhen("the status is written", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.Controllers.Node != nil
	})

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) {
		s.Controllers.Node.LeakGracePeriod = &metav1.Duration{Duration: time.Second}
		s.Controllers.Node.ReconcilerPeriod = &metav1.Duration{Duration: 7 * time.Minute}
	})
	kcc := cl.kccWhen("the status shows the spec's reconcilerPeriod", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.Controllers.Node.ReconcilerPeriod.Duration == 7*time.Minute
	})
	if g := kcc.Status.RunningConfig.Controllers.Node.LeakGracePeriod.Duration; g != time.Hour {
		t.Errorf("running leakGracePeriod %v, want LEAK_GRACE_PERIOD's 1h over the spec's 1s", g)
	}
	if !maps.Equal(kcc.Status.EnvironmentVars, env) {
		t.Errorf("status.environmentVars %v, want %v", kcc.Status.EnvironmentVars, env)
	}
	cl.deletePod("apps", "leaky")
	time.Sleep(4 * time.Second)
	if !cl.allocated("k8s-pod-network.leaky") {
		t.Error("the leak was released after 4s: the spec's 1s grace period beat LEAK_GRACE_PERIOD=1h")
	}

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.Controllers.Node = nil })
	cl.kccWhen("the status shows the node controller still running, at the default period", func(k *v3.KubeControllersConfiguration) bool {
		n := k.Status.RunningConfig.Controllers.Node
		return n != nil && n.ReconcilerPeriod.Duration == DefaultReconcilerPeriod
	})
	if err := cl.kube.CoreV1().Nodes().Delete(context.Background(), "node-b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "node-b's affinities are released by the node controller ENABLED_CONTROLLERS keeps", func() bool {
		l, err := cl.be.List(context.Background(), datastore.ListOptions{Kind: v3.KindBlockAffinity, NamePrefix: "node-b-"})
		return err == nil && len(l.Items) == 0
	})
}

// prometheusMetricsPort comes from an existing resource (no variable
// set), and changing it moves the health and metrics server at once.
func TestKubeControllersConfiguration_MetricsPortMoves(t *testing.T) {
	cl := startCluster(t, true)
	ports := testutil.FreePorts(t, 2)
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(false)
	kcc.Spec.PrometheusMetricsPort = &ports[0]
	if _, err := cl.c.Create(context.Background(), kcc); err != nil {
		t.Fatal(err)
	}
	cl.start(Config{Environment: envOf(map[string]string{"DATASTORE_TYPE": "kubernetes"})})
	ready := func(port int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return Probe(ctx, "127.0.0.1:"+strconv.Itoa(port), PathReadiness)
	}
	if err := ready(ports[0]); err != nil {
		t.Fatalf("the resource's port: %v", err)
	}
	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.PrometheusMetricsPort = &ports[1] })
	eventually(t, 30*time.Second, "the server answers on the new port and no longer on the old one", func() bool {
		return ready(ports[1]) == nil && ready(ports[0]) != nil
	})
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// kcc reads the KubeControllersConfiguration "default" (nil when missing).
func (cl *cluster) kcc() *v3.KubeControllersConfiguration {
	cl.t.Helper()
	res, err := cl.c.Get(context.Background(), v3.KindKubeControllersConfiguration, "", v3.KubeControllersConfigurationName)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		cl.t.Fatal(err)
	}
	return res.(*v3.KubeControllersConfiguration)
}

// kccWhen waits until "default" exists and satisfies cond, and returns it.
func (cl *cluster) kccWhen(what string, cond func(*v3.KubeControllersConfiguration) bool) *v3.KubeControllersConfiguration {
	cl.t.Helper()
	var k *v3.KubeControllersConfiguration
	eventually(cl.t, 30*time.Second, what, func() bool {
		k = cl.kcc()
		return k != nil && cond(k)
	})
	return k
}

// updateKCC changes the spec of "default" as a user would, retrying when
// the controllers' status write got in between.
func (cl *cluster) updateKCC(change func(*v3.KubeControllersConfigurationSpec)) {
	cl.t.Helper()
	for attempt := 0; ; attempt++ {
		k := cl.kcc()
		change(&k.Spec)
		_, err := cl.c.Update(context.Background(), k)
		if err == nil {
			return
		}
		if !client.IsConflict(err) || attempt == 10 {
			cl.t.Fatal(err)
		}
	}
}
