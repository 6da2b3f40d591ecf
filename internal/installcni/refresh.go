package installcni

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"
)

// Refresh timing, as Calico's CNI token refresher (calico-node's "CNI
// token monitor") does it.
const (
	// refreshFraction: the next refresh is due after 1/refreshFraction of
	// the token's remaining lifetime, plus up to as much again of jitter
	// (so nodes do not all ask at once): a 24 h token is renewed after 6-12 h.
	refreshFraction = 4
	// minRefreshDelay is the shortest wait, used when the token is about
	// to expire, and the first retry after a failure.
	minRefreshDelay = 5 * time.Second
	// maxRetryDelay caps the doubling retry delay after failures.
	maxRetryDelay = 2 * time.Minute
	// unknownExpiryDelay re-reads a token without an expiry (the pod's
	// legacy token in fallback) this often.
	unknownExpiryDelay = time.Hour
)

// Refresher keeps the token in the CNI plugin's kubeconfig fresh for the
// life of calico-node: it requests a new token at once, rewrites the
// kubeconfig (atomically, 0600), then again well before each token
// expires. It satisfies the node's Component contract (Name, Run).
type Refresher struct {
	cfg    Config
	tokens tokenGetter
	log    *slog.Logger
	jitter func() float64
	// firstRetry is minRefreshDelay; tests shorten it.
	firstRetry time.Duration
}

// NewRefresher returns the refresher for cfg, or an error saying why it
// cannot run here: not in a pod (KUBERNETES_SERVICE_HOST unset), the
// service account not mounted, or the host's CNI config directory not
// mounted at cfg.HostNetDir.
func NewRefresher(cfg Config, log *slog.Logger) (*Refresher, error) {
	if cfg.ServiceHost == "" {
		return nil, errors.New("KUBERNETES_SERVICE_HOST is not set (not running in a Kubernetes pod)")
	}
	if st, err := os.Stat(cfg.HostNetDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the host's CNI config directory %s is not mounted at %s; mount it read-write in the calico-node container",
			cfg.CNINetDir, cfg.HostNetDir)
	}
	src, err := NewTokenSource(cfg)
	if err != nil {
		return nil, err
	}
	return newRefresher(cfg, src, log), nil
}

func newRefresher(cfg Config, tokens tokenGetter, log *slog.Logger) *Refresher {
	if log == nil {
		log = slog.Default()
	}
	return &Refresher{cfg: cfg, tokens: tokens, log: log, jitter: rand.Float64, firstRetry: minRefreshDelay}
}

// Name identifies the refresher in calico-node's logs.
func (r *Refresher) Name() string { return "cni-token-refresher" }

// Run refreshes until ctx ends, then returns nil. Failures are logged and
// retried (5 s, doubling up to 2 min); the kubeconfig keeps its previous
// token meanwhile, so a passing API outage costs nothing.
func (r *Refresher) Run(ctx context.Context) error {
	retry := r.firstRetry
	for {
		var wait time.Duration
		tok, err := r.Refresh(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Error("CNI plugin token not refreshed; retrying", "err", err, "retry_in", retry)
			wait, retry = retry, min(2*retry, maxRetryDelay)
		default:
			retry = r.firstRetry
			wait = refreshDelay(tok.Expires, time.Now(), r.cfg.TokenRefreshInterval, r.jitter())
			if tok.Fallback != "" {
				r.log.Warn("CNI plugin kubeconfig written with calico-node's own token", "reason", tok.Fallback)
			}
			r.log.Info("CNI plugin kubeconfig refreshed", "account", tok.Account, "expires", tok.Expires, "next_refresh_in", wait.Round(time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Refresh requests one token and rewrites the kubeconfig with it.
func (r *Refresher) Refresh(ctx context.Context) (Token, error) {
	tok, err := r.tokens.token(ctx)
	if err != nil {
		return Token{}, err
	}
	if _, err := writeKubeconfig(r.cfg, tok.Value); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// refreshDelay is how long to wait before the next refresh: a quarter of
// the remaining lifetime (or the configured interval), plus jitter in
// [0,1) times as much; minRefreshDelay when the token expires within four
// of those; unknownExpiryDelay (or the interval) when expiry is unknown.
func refreshDelay(expires, now time.Time, interval time.Duration, jitter float64) time.Duration {
	var base time.Duration
	switch {
	case expires.IsZero() && interval > 0:
		base = interval
	case expires.IsZero():
		base = unknownExpiryDelay
	case expires.Before(now.Add(refreshFraction * minRefreshDelay)):
		base = minRefreshDelay
	case interval > 0:
		base = interval
	default:
		base = expires.Sub(now) / refreshFraction
	}
	return base + time.Duration(jitter*float64(base))
}
