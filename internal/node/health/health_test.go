package health

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStatus_AggregatesPerGroupWithTimeouts(t *testing.T) {
	now := time.Unix(1000, 0)
	a := NewAggregator()
	a.now = func() time.Time { return now }
	routes := a.Register("felix-routes", GroupFelix, 10*time.Second)
	policy := a.Register("felix-policy", GroupFelix, 0)
	a.Register("bgp-speaker", GroupBGP, 0)

	if st := a.Status(GroupFelix); !st.Live || st.Ready {
		t.Fatalf("before any report: %+v, want live and not ready", st)
	}
	routes.Report(true, true, "")
	policy.Report(true, true, "")
	if st := a.Status(GroupFelix); !st.Live || !st.Ready {
		t.Fatalf("after reports: %+v, want live and ready", st)
	}
	if st := a.Status(""); st.Ready {
		t.Fatalf("all groups: %+v, want not ready (bgp has not reported)", st)
	}
	now = now.Add(11 * time.Second)
	st := a.Status(GroupFelix)
	if st.Live || st.Ready || !strings.Contains(st.Problem(true, GroupFelix), "felix-routes: no report for 11s") {
		t.Fatalf("after timeout: %+v problem %q", st, st.Problem(true, GroupFelix))
	}
	routes.Report(true, false, "waiting for datastore")
	if st := a.Status(GroupFelix); !st.Live || st.Ready || st.Problem(false, GroupFelix) != "felix-routes: waiting for datastore" {
		t.Fatalf("not ready: %+v %q", st, st.Problem(false, GroupFelix))
	}
	if st := a.Status("wireguard"); st.Live || st.Ready || st.Problem(true, "wireguard") != "no wireguard component is running in this calico-node" {
		t.Fatalf("empty group: %+v", st)
	}
}

func TestProbe_ExitsAsCalicoNodeDoes(t *testing.T) {
	a := NewAggregator()
	srv := httptest.NewServer(Handler(a))
	defer srv.Close()
	ctx := context.Background()
	felix := a.Register("felix", GroupFelix, 0)

	if err := Probe(ctx, srv.URL, FelixLive); err != nil {
		t.Fatalf("felix-live while starting: %v", err)
	}
	err := Probe(ctx, srv.URL, FelixReady)
	if err == nil || !strings.HasPrefix(err.Error(), "calico/node is not ready: felix is not ready: readiness probe reporting 503") {
		t.Fatalf("felix-ready while starting: %v", err)
	}
	felix.Report(true, true, "")
	if err := Probe(ctx, srv.URL, FelixLive, FelixReady); err != nil {
		t.Fatalf("healthy felix: %v", err)
	}
	err = Probe(ctx, srv.URL, FelixReady, BirdReady)
	if err == nil || !strings.Contains(err.Error(), "calico/node is not ready: BIRD is not ready: readiness probe reporting 503 (no bgp component is running") {
		t.Fatalf("bird-ready without bgp: %v", err)
	}
	a.Register("bgp", GroupBGP, 0).Report(false, false, "speaker stopped")
	err = Probe(ctx, srv.URL, BirdLive)
	if err == nil || !strings.Contains(err.Error(), "calico/node is not ready: bird is not live: liveness probe reporting 503 (bgp: speaker stopped)") {
		t.Fatalf("bird-live: %v", err)
	}
	if err := Probe(ctx, "http://127.0.0.1:1", FelixLive); err == nil || !strings.Contains(err.Error(), "Felix is not live") {
		t.Fatalf("nothing listening: %v", err)
	}
}

func TestServer_ServesUntilContextEnds(t *testing.T) {
	a := NewAggregator()
	a.Register("node", GroupNode, 0).Report(true, true, "")
	s, err := Listen("127.0.0.1:0", a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	base := "http://" + s.Addr().String()
	if err := get(ctx, base+"/readiness?group=node", "readiness"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}
