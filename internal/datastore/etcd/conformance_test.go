package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore/conformance"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// newClient connects a Backend to endpoints and closes it with the test.
func newClient(t *testing.T, endpoints []string) *etcd.Backend {
	t.Helper()
	b, err := etcd.New(etcd.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// compactor returns a Harness.Compact for b.
func compactor(b *etcd.Backend) func(t *testing.T, rev string) {
	return func(t *testing.T, rev string) {
		if err := b.Compact(context.Background(), rev); err != nil {
			t.Fatalf("compact at %s: %v", rev, err)
		}
	}
}

// startEmbedded runs an embedded server in dir on clientURL ("" for any
// free port) until the test ends.
func startEmbedded(t *testing.T, dir, clientURL string) *etcd.Embedded {
	t.Helper()
	e, err := etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{DataDir: dir, ClientURL: clientURL})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestConformance_Embedded(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		dir := t.TempDir()
		e := startEmbedded(t, dir, "")
		t.Cleanup(func() { e.Close() })
		b := newClient(t, e.Endpoints())
		return conformance.Harness{
			Backend: b,
			Compact: compactor(b),
			Restart: func(t *testing.T) {
				ep := e.Endpoints()[0]
				e.Close()
				e = startEmbedded(t, dir, ep)
			},
		}
	})
}

func TestConformance_ExternalEtcd(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		p := testutil.StartEtcdProcess(t)
		b := newClient(t, []string{p.Endpoint})
		return conformance.Harness{
			Backend: b,
			Compact: compactor(b),
			Restart: func(t *testing.T) {
				p.Stop()
				p.Start()
			},
		}
	})
}
