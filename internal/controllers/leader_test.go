package controllers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Two instances share the Lease: exactly one leads; when the leader loses
// the API server (its connection is cut, as a crash or partition would),
// it stops and the standby takes over after the Lease expires and then
// does the work (a deleted Node is cleaned up).
func TestLeaderElection_StandbyTakesOverWhenLeaderDies(t *testing.T) {
	cl := newCluster(t)
	cl.node("node-a")

	type instance struct {
		m    *Manager
		cut  *atomic.Bool
		done chan error
	}
	startInstance := func(id string) *instance {
		in := &instance{cut: &atomic.Bool{}, done: make(chan error, 1)}
		rc := rest.CopyConfig(cl.rc)
		rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return cuttable{rt: rt, cut: in.cut} }
		kube, err := kubernetes.NewForConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		in.m = New(Config{Enabled: []string{ControllerNode}, LeakGracePeriod: time.Hour, ReconcilerPeriod: time.Hour, Identity: id,
			LeaseDuration: 8 * time.Second, RenewDeadline: 6 * time.Second, RetryPeriod: time.Second}, kube, cl.be, testLogger())
		ctx, cancel := context.WithCancel(context.Background())
		go func() { in.done <- in.m.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-in.done })
		return in
	}
	a, b := startInstance("instance-a"), startInstance("instance-b")

	var leader, standby *instance
	eventually(t, 30*time.Second, "one instance leads", func() bool {
		switch {
		case a.m.IsLeader() && b.m.IsLeader():
			t.Fatal("both instances lead")
		case a.m.IsLeader():
			leader, standby = a, b
		case b.m.IsLeader():
			leader, standby = b, a
		}
		return leader != nil
	})
	// The standby stays a standby while the leader renews.
	time.Sleep(4 * time.Second)
	if standby.m.IsLeader() {
		t.Fatal("the standby took over from a live leader")
	}
	if code, body := get(t, standby.m, PathReadiness); code != http.StatusOK || !strings.Contains(body, "standby") {
		t.Errorf("standby readiness %d %q", code, body)
	}
	if _, body := get(t, leader.m, "/metrics"); !strings.Contains(body, "tricolor_kube_controllers_is_leader 1") {
		t.Error("leader's metrics do not say it leads")
	}

	leader.cut.Store(true)
	eventually(t, 45*time.Second, "the standby takes over", standby.m.IsLeader)
	select {
	case err := <-leader.done:
		if err == nil || !strings.Contains(err.Error(), "lost the leader lease") {
			t.Errorf("old leader's Run returned %v, want a lost-lease error", err)
		}
		leader.done <- err // for the cleanup
	case <-time.After(45 * time.Second):
		t.Fatal("the cut-off leader did not stop")
	}

	if err := cl.kube.CoreV1().Nodes().Delete(context.Background(), "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the new leader cleans up the deleted node", func() bool {
		return !cl.exists(datastore.Key{Kind: v3.KindNode, Name: "node-a"})
	})
}

// get fetches path from the manager's health and metrics handler.
func get(t *testing.T, m *Manager, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// Readiness is refused until the manager has started, liveness always
// answers, and Probe (the -l/-r flags) reads them over HTTP.
func TestHealth_ProbesOverHTTP(t *testing.T) {
	m := New(Config{}, nil, nil, testLogger())
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	if err := Probe(ctx, addr, PathReadiness); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("readiness before start: %v, want 503", err)
	}
	if err := Probe(ctx, addr, PathLiveness); err != nil {
		t.Errorf("liveness: %v", err)
	}
	m.health.set("leading")
	if err := Probe(ctx, addr, PathReadiness); err != nil {
		t.Errorf("readiness while leading: %v", err)
	}
	if err := Probe(ctx, "127.0.0.1:1", PathLiveness); err == nil {
		t.Error("probe of a closed port succeeded")
	}
}
