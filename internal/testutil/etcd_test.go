package testutil

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

// gatewayPost calls etcd's v3 JSON gateway, keeping this package free of the
// etcd client.
func gatewayPost(t *testing.T, endpoint, path, body string) string {
	t.Helper()
	resp, err := http.Post(endpoint+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
	}
	return string(out)
}

func TestStartEtcd_RestartKeepsData(t *testing.T) {
	p := StartEtcdProcess(t)
	key := base64.StdEncoding.EncodeToString([]byte("/tricolor/test"))
	val := base64.StdEncoding.EncodeToString([]byte("kept"))
	gatewayPost(t, p.Endpoint, "/v3/kv/put", `{"key":"`+key+`","value":"`+val+`"}`)

	p.Stop()
	if _, err := http.Get(p.Endpoint + "/health"); err == nil {
		t.Fatalf("etcd still answers at %s after Stop", p.Endpoint)
	}
	p.Start()

	got := gatewayPost(t, p.Endpoint, "/v3/kv/range", `{"key":"`+key+`"}`)
	if !strings.Contains(got, val) {
		t.Fatalf("after restart, range %s = %s; want value %s", "/tricolor/test", got, val)
	}
}

func TestFreePorts_AreDistinct(t *testing.T) {
	ports := FreePorts(t, 5)
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("FreePorts returned %v; want 5 distinct positive ports", ports)
		}
		seen[p] = true
	}
}
