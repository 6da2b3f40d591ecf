package health

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Check is one probe calico-node can run.
type Check string

// The probes, by calico-node flag.
const (
	FelixLive  Check = "felix-live"
	FelixReady Check = "felix-ready"
	BirdLive   Check = "bird-live"
	BirdReady  Check = "bird-ready"
)

// Endpoint returns the base URL of the health server for FELIX_HEALTHHOST
// and FELIX_HEALTHPORT values (defaults localhost and 9099).
func Endpoint(host string, port int) string {
	if host == "" {
		host = "localhost"
	}
	if port == 0 {
		port = 9099
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// probe describes how one Check is asked and how its failure reads (the
// wording is calico-node's, so scripts grepping probe output keep working).
func (c Check) probe() (path, group, failure string) {
	switch c {
	case FelixLive:
		return "/liveness", GroupFelix, "calico/node is not ready: Felix is not live"
	case FelixReady:
		return "/readiness", GroupFelix, "calico/node is not ready: felix is not ready"
	case BirdLive:
		return "/liveness", GroupBGP, "calico/node is not ready: bird is not live"
	case BirdReady:
		return "/readiness", GroupBGP, "calico/node is not ready: BIRD is not ready"
	}
	return "", "", ""
}

// Probe runs the checks concurrently against base (see Endpoint) and
// returns the first failure, worded as calico-node words it, e.g.
// "calico/node is not ready: felix is not ready: readiness probe reporting
// 503 (felix-routes: starting: no report yet)".
func Probe(ctx context.Context, base string, checks ...Check) error {
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		path, group, failure := c.probe()
		if path == "" {
			return fmt.Errorf("unknown health check %q", c)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := get(ctx, base+path+"?group="+group, strings.TrimPrefix(path, "/")); err != nil {
				errs[i] = fmt.Errorf("%s: %w", failure, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// get performs one probe request; a status outside 2xx/3xx is a failure.
func get(ctx context.Context, url, probeType string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		if p := resp.Header.Get("X-Health-Problem"); p != "" {
			return fmt.Errorf("%s probe reporting %d (%s)", probeType, resp.StatusCode, p)
		}
		return fmt.Errorf("%s probe reporting %d", probeType, resp.StatusCode)
	}
	return nil
}
