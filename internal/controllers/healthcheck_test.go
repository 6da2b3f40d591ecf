package controllers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// healthChecks: Disabled — the API server can be unreachable and the
// probes still answer 200, as Calico's do without health checks. Turned to
// Enabled, losing the API server makes liveness and readiness answer 503
// naming KubeAPIServer, and they recover with it. A datastore that cannot
// be read fails CalicoDatastore; one without ClusterInformation "default"
// yet is healthy.
func TestHealthChecks_FollowTheSetting(t *testing.T) {
	cl := newCluster(t)
	cut := &atomic.Bool{}
	rc := rest.CopyConfig(cl.rc)
	rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return cuttable{rt: rt, cut: cut} }
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(true)
	kcc.Spec.HealthChecks = "Disabled"
	if _, err := cl.c.Create(context.Background(), kcc); err != nil {
		t.Fatal(err)
	}
	// A long renew deadline: cutting the API server must not cost the lease
	// within the test.
	m := cl.startAs(Config{Environment: envOf(map[string]string{"PROMETHEUS_METRICS_PORT": "0"}), HealthCheckPeriod: 200 * time.Millisecond,
		LeaseDuration: time.Minute, RenewDeadline: 45 * time.Second}, kube, cl.be)
	cl.kccWhen("the status shows healthChecks Disabled", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.HealthChecks == "Disabled"
	})
	probes := func() (live, ready int, body string) {
		live, _ = get(t, m, PathLiveness)
		ready, body = get(t, m, PathReadiness)
		return live, ready, body
	}
	cut.Store(true)
	time.Sleep(time.Second) // five check periods
	if live, ready, body := probes(); live != http.StatusOK || ready != http.StatusOK {
		t.Errorf("checks disabled, API server cut: liveness %d readiness %d (%q), want 200 200", live, ready, body)
	}
	cut.Store(false)

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.HealthChecks = "Enabled" })
	cl.kccWhen("the status shows healthChecks Enabled", func(k *v3.KubeControllersConfiguration) bool {
		return k.Status.RunningConfig.HealthChecks == "Enabled"
	})
	eventually(t, 20*time.Second, "ready again after the restart", func() bool {
		live, ready, _ := probes()
		return live == http.StatusOK && ready == http.StatusOK
	})
	cut.Store(true)
	eventually(t, 10*time.Second, "liveness and readiness fail naming the API server", func() bool {
		live, ready, body := probes()
		return live == http.StatusServiceUnavailable && ready == http.StatusServiceUnavailable && strings.Contains(body, condAPIServer)
	})
	cut.Store(false)
	eventually(t, 10*time.Second, "liveness and readiness recover with the API server", func() bool {
		live, ready, _ := probes()
		return live == http.StatusOK && ready == http.StatusOK
	})

	for _, tc := range []struct {
		err     error
		failing bool
	}{{errors.New("connection refused"), true}, {datastore.ErrNotFound, false}} {
		m := New(Config{}, cl.kube, getFails{Backend: cl.be, err: tc.err}, testLogger())
		failing := m.checkOnce(context.Background(), time.Second)
		if _, bad := failing[condDatastore]; bad != tc.failing || len(failing) > 1 {
			t.Errorf("datastore Get error %v: failing %v, want %s failing=%v only", tc.err, failing, condDatastore, tc.failing)
		}
	}
}

// getFails is a backend whose Get fails with err.
type getFails struct {
	datastore.Backend
	err error
}

func (g getFails) Get(context.Context, datastore.Key) (*datastore.KVPair, error) { return nil, g.err }
