package felix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/node/health"
)

// TestFelix_ProgramsDatastoreStateIntoNFT writes a namespace profile, two
// workloads (one on another node) and a deny policy, then starts Felix:
// the local endpoint, its policy chain and its profile appear in the table;
// the remote workload does not.
func TestFelix_ProgramsDatastoreStateIntoNFT(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", map[string]string{"app": "web"}))
	h.apply(wep("node2", "prod", "far", "califar", "10.244.2.2", map[string]string{"app": "web"}))
	h.apply(netpol("prod", "deny-web", "app == 'web'", v3.Deny))
	f := New(h.config(nil))
	h.start(f)
	waitReady(t, f)
	d := h.fake.Dump()
	for _, want := range []string{"tw-caliweb", "fw-caliweb", "pi-default/prod/deny-web", "pri-kns.prod", "drop"} {
		if !strings.Contains(d, want) {
			t.Errorf("table lacks %q after the first apply:\n%s", want, d)
		}
	}
	if strings.Contains(d, "califar") {
		t.Errorf("table programs node2's workload califar:\n%s", d)
	}
}

// TestFelix_ReadyOnlyAfterFirstApplyAfterInSync holds the datastore's
// lists: Felix is live but not ready and programs nothing; once the lists
// return, it applies and turns ready on the felix health group.
func TestFelix_ReadyOnlyAfterFirstApplyAfterInSync(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", nil))
	gate := gatedBackend{Backend: h.be, open: make(chan struct{})}
	agg := health.NewAggregator()
	f := New(h.config(func(c *Config) { c.Backend, c.Health = gate, agg }))
	if st := agg.Status(health.GroupFelix); st.Ready {
		t.Fatalf("felix ready before Run: %+v", st)
	}
	h.start(f)
	time.Sleep(300 * time.Millisecond)
	st := agg.Status(health.GroupFelix)
	if !st.Live || st.Ready || f.Ready() || !strings.Contains(st.Problem(false, health.GroupFelix), "in sync") {
		t.Fatalf("before in-sync: status %+v (Ready()=%v), want live, not ready, waiting for in-sync", st, f.Ready())
	}
	if d := h.fake.Dump(); strings.Contains(d, "caliweb") {
		t.Fatalf("programmed before in-sync:\n%s", d)
	}
	close(gate.open)
	waitReady(t, f)
	if st := agg.Status(health.GroupFelix); !st.Live || !st.Ready {
		t.Fatalf("after the first apply: status %+v, want live and ready", st)
	}
	if d := h.fake.Dump(); !strings.Contains(d, "tw-caliweb") {
		t.Fatalf("ready but the endpoint is not programmed:\n%s", d)
	}
}

// TestFelix_PolicyChangeAppliedWithinThrottle changes a policy's action
// after Felix is ready and measures how long the table takes to follow.
func TestFelix_PolicyChangeAppliedWithinThrottle(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", map[string]string{"app": "web"}))
	h.apply(netpol("prod", "web", "app == 'web'", v3.Deny))
	f := New(h.config(func(c *Config) { c.ApplyThrottle = 100 * time.Millisecond }))
	h.start(f)
	waitReady(t, f)
	if v := policyVerdict(h.fake.Dump(), "pi-default/prod/web"); v != "drop" {
		t.Fatalf("policy chain verdict %q, want drop:\n%s", v, h.fake.Dump())
	}
	// Several writes in a row: each is applied within the throttle (plus
	// scheduling slack for a loaded CI machine), never starved.
	for i, action := range []v3.Action{v3.Allow, v3.Deny, v3.Allow} {
		start := time.Now()
		h.apply(netpol("prod", "web", "app == 'web'", action))
		want := map[v3.Action]string{v3.Allow: "accept", v3.Deny: "drop"}[action]
		h.waitDump(2*time.Second, fmt.Sprintf("change %d (%s)", i, action), func(d string) bool {
			return policyVerdict(d, "pi-default/prod/web") == want
		})
		if took := time.Since(start); took > 600*time.Millisecond {
			t.Errorf("change %d (%s) took %v to reach the table, want about the 100ms throttle", i, action, took)
		} else {
			t.Logf("change %d (%s) applied in %v", i, action, took)
		}
	}
}

// policyVerdict returns "accept" or "drop": the verdict of the TCP rule
// (meta l4proto 6) in chain's dump lines. An Allow rule sets the accept
// mark bit (0x10000) and returns to the endpoint chain.
func policyVerdict(dump, chain string) string {
	for _, l := range strings.Split(dump, "\n") {
		if !strings.HasPrefix(l, "add rule inet calico "+chain+" ") || !strings.Contains(l, "l4proto 6") {
			continue
		}
		switch {
		case strings.Contains(l, " drop"):
			return "drop"
		case strings.Contains(l, "| 0x10000"):
			return "accept"
		}
	}
	return ""
}

// TestFelix_EnvOverridesDatastoreConfigAndServesMetrics: the "default"
// FelixConfiguration sets a log prefix and the env (ApplyEnv) another one;
// the env wins, as in Calico. Metrics, enabled by the env, report the
// active endpoint and the apply histogram.
func TestFelix_EnvOverridesDatastoreConfigAndServesMetrics(t *testing.T) {
	h := newHarness(t)
	h.apply(felixConfig("default", func(s *v3.FelixConfigurationSpec) { s.LogPrefix = "from-datastore" }))
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", map[string]string{"app": "web"}))
	h.apply(netpol("prod", "log-web", "app == 'web'", v3.Log))
	env := func(s *v3.FelixConfigurationSpec) error {
		on, port := true, 0
		s.LogPrefix, s.PrometheusMetricsEnabled, s.PrometheusMetricsPort = "from-env", &on, &port
		return nil
	}
	f := New(h.config(func(c *Config) { c.ApplyEnv = env }))
	h.start(f)
	waitReady(t, f)
	if d := h.fake.Dump(); !strings.Contains(d, "from-env") || strings.Contains(d, "from-datastore") {
		t.Errorf("log rule prefix: want the env's from-env, not the datastore's:\n%s", d)
	}
	addr := f.MetricsAddr()
	if addr == nil {
		t.Fatal("metrics enabled but MetricsAddr is nil")
	}
	if !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Errorf("metrics listen on %s, want loopback by default", addr)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"felix_active_local_endpoints 1", "felix_active_local_policies 1",
		"felix_int_dataplane_apply_time_seconds_count", "felix_calc_graph_update_time_seconds_count", "felix_nft_resyncs_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestFelix_MetricsOffByDefault: no PrometheusMetricsEnabled, no listener.
func TestFelix_MetricsOffByDefault(t *testing.T) {
	h := newHarness(t)
	f := New(h.config(nil))
	h.start(f)
	waitReady(t, f)
	if a := f.MetricsAddr(); a != nil {
		t.Errorf("metrics listening on %s without PrometheusMetricsEnabled", a)
	}
}

// TestFelix_RunRejectsMissingConfig names the missing fields.
func TestFelix_RunRejectsMissingConfig(t *testing.T) {
	err := New(Config{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "NodeName") {
		t.Fatalf("Run with an empty Config: %v, want an error naming NodeName", err)
	}
}

// TestFelix_IdleLoopAppliesWithoutWaitingForThrottle: with a long throttle
// (500ms), a change arriving after the loop has been idle longer than the
// throttle is applied at once, not a throttle period later.
func TestFelix_IdleLoopAppliesWithoutWaitingForThrottle(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", map[string]string{"app": "web"}))
	h.apply(netpol("prod", "web", "app == 'web'", v3.Deny))
	f := New(h.config(func(c *Config) { c.ApplyThrottle = 500 * time.Millisecond }))
	h.start(f)
	waitReady(t, f)
	time.Sleep(600 * time.Millisecond) // idle for longer than the throttle
	start := time.Now()
	h.apply(netpol("prod", "web", "app == 'web'", v3.Allow))
	h.waitDump(2*time.Second, "the Allow rule", func(d string) bool { return policyVerdict(d, "pi-default/prod/web") == "accept" })
	if took := time.Since(start); took >= 400*time.Millisecond {
		t.Errorf("idle loop took %v to apply a change; want well under the 500ms throttle", took)
	} else {
		t.Logf("idle change applied in %v", took)
	}
}

// failingNFT fails the first n transactions, as an nft binary that cannot
// write the table would.
type failingNFT struct {
	knftables.Interface
	left atomic.Int32
}

func (f *failingNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if f.left.Add(-1) >= 0 {
		return errors.New("injected: nft transaction refused")
	}
	return f.Interface.Run(ctx, tx)
}

// TestFelix_FailedApplyIsRetriedAndNotReady: while transactions fail, Felix
// stays live, not ready, with the failure in the probe detail; the retry
// after the backoff succeeds and Felix turns ready.
func TestFelix_FailedApplyIsRetriedAndNotReady(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", nil))
	nft := &failingNFT{Interface: h.fake}
	nft.left.Store(1)
	agg := health.NewAggregator()
	f := New(h.config(func(c *Config) { c.NFT, c.Health = nft, agg }))
	h.start(f)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := agg.Status(health.GroupFelix)
		if p := st.Problem(false, health.GroupFelix); strings.Contains(p, "injected") {
			if st.Ready || !st.Live {
				t.Fatalf("after a failed apply: %+v, want live and not ready", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed apply never showed in the readiness detail: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitReady(t, f)
	if st := agg.Status(health.GroupFelix); !st.Ready || strings.Contains(st.Problem(false, health.GroupFelix), "injected") {
		t.Fatalf("after the retry: %+v, want ready with no failure detail", st)
	}
}
