package installcni

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestRefreshDelay_QuarterOfRemainingLifetimePlusJitter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		expires  time.Time
		interval time.Duration
		jitter   float64
		want     time.Duration
	}{
		{"24 h token, no jitter", now.Add(24 * time.Hour), 0, 0, 6 * time.Hour},
		{"24 h token, most jitter", now.Add(24 * time.Hour), 0, 0.99, 6*time.Hour + time.Duration(0.99*float64(6*time.Hour))},
		{"1 h left", now.Add(time.Hour), 0, 0.5, 15*time.Minute + 7*time.Minute + 30*time.Second},
		{"about to expire", now.Add(10 * time.Second), 0, 0, minRefreshDelay},
		{"already expired", now.Add(-time.Hour), 0, 0, minRefreshDelay},
		{"CNI_TOKEN_REFRESH_INTERVAL", now.Add(24 * time.Hour), time.Hour, 0.5, 90 * time.Minute},
		{"interval, but about to expire", now.Add(10 * time.Second), time.Hour, 0, minRefreshDelay},
		{"unknown expiry", time.Time{}, 0, 0, unknownExpiryDelay},
		{"unknown expiry, interval", time.Time{}, 10 * time.Minute, 0, 10 * time.Minute},
	} {
		if got := refreshDelay(tc.expires, now, tc.interval, tc.jitter); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJWTClaims_ReadsSubjectAndExpiry(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"sub":"system:serviceaccount:ns:calico-node","exp":1800000000}`)) + ".sig"
	c, ok := jwtClaims(tok)
	if !ok || c.Subject != "system:serviceaccount:ns:calico-node" || c.Expiry != 1800000000 {
		t.Errorf("claims %+v %v", c, ok)
	}
	for _, bad := range []string{"tricolor-test-admin-token", "a.b", "a.!!!.c", "a." + enc([]byte("not json")) + ".c"} {
		if _, ok := jwtClaims(bad); ok {
			t.Errorf("%q decoded as a JWT", bad)
		}
	}
}

// tokenSeq hands out its tokens (or errors) in turn, then the last again.
type tokenSeq struct {
	mu    sync.Mutex
	steps []fakeTokens
	calls int
}

var _ tokenGetter = (*tokenSeq)(nil)

func (s *tokenSeq) token(context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	step := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	return step.tok, step.err
}

// kubeconfigToken reads the token of the kubeconfig in cfg.HostNetDir.
func kubeconfigToken(t *testing.T, cfg Config) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(filepath.Join(cfg.HostNetDir, DefaultKubeconfigName))
	if err != nil {
		return ""
	}
	return kc.AuthInfos["calico"].Token
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A failed request leaves the old kubeconfig in place, is logged and
// retried; the next success rewrites the file (0600, no temporary files
// left); Run returns nil when its context ends.
func TestRefresher_RetriesAfterAFailureAndKeepsTheOldToken(t *testing.T) {
	cfg := layout(t)
	if _, err := writeKubeconfig(cfg, "old-token"); err != nil {
		t.Fatal(err)
	}
	seq := &tokenSeq{steps: []fakeTokens{
		{err: errors.New("connection refused")},
		{tok: Token{Value: "new-token", Expires: time.Now().Add(time.Hour), Account: "system:serviceaccount:kube-system:calico-cni-plugin"}},
	}}
	var logs testutil.LockedBuffer
	r := newRefresher(cfg, seq, slog.New(slog.NewTextHandler(&logs, nil)))
	r.firstRetry = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	waitFor(t, "the failure to be logged", func() bool { return strings.Contains(logs.String(), "connection refused") })
	if got := kubeconfigToken(t, cfg); got != "old-token" && got != "new-token" {
		t.Fatalf("kubeconfig token %q after a failed refresh", got)
	}
	waitFor(t, "the retry to write the new token", func() bool { return kubeconfigToken(t, cfg) == "new-token" })
	st, err := os.Stat(filepath.Join(cfg.HostNetDir, DefaultKubeconfigName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(cfg.HostNetDir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v on cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop when its context ended")
	}
	if !strings.Contains(logs.String(), "CNI plugin kubeconfig refreshed") {
		t.Errorf("no refresh logged:\n%s", logs.String())
	}
}

func TestNewRefresher_SaysWhyItCannotRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"not in a pod", func(c *Config) { c.ServiceHost = "" }, "KUBERNETES_SERVICE_HOST"},
		{"CNI dir not mounted", func(c *Config) { c.HostNetDir = filepath.Join(t.TempDir(), "missing") }, "not mounted"},
		{"no service account", func(c *Config) { os.Remove(filepath.Join(c.ServiceAccountDir, "token")) }, "service account token"},
	} {
		cfg := layout(t)
		tc.change(&cfg)
		if _, err := NewRefresher(cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if r, err := NewRefresher(layout(t), nil); err != nil || r.Name() == "" {
		t.Errorf("in a pod with the directories mounted: %v", err)
	}
}
