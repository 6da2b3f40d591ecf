package k8s_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore/conformance"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// startServer starts one real kube-apiserver (with etcd) for a whole test.
// NamespaceLifecycle is off: the suite writes into namespaces nobody
// created, and the test cluster runs no namespace controller.
func startServer(t *testing.T) *testutil.KubeAPIServer {
	t.Helper()
	start := time.Now()
	srv := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{DisableAdmission: []string{"NamespaceLifecycle"}})
	t.Logf("kube-apiserver + etcd + CRDs ready in %s", time.Since(start).Round(time.Millisecond))
	return srv
}

// TestConformance runs the shared datastore suite against a real API
// server. Cases share one server; each starts from an empty store (every
// custom resource deleted). Restart restarts the API server process; Compact
// compacts the etcd behind it.
func TestConformance(t *testing.T) {
	srv := startServer(t)
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		wipe(t, dyn)
		b, err := k8s.New(srv.Config)
		if err != nil {
			t.Fatal(err)
		}
		return conformance.Harness{
			Backend: payloadBackend{b},
			Restart: func(t *testing.T) { srv.Restart() },
			Compact: func(t *testing.T, rev string) { compactEtcd(t, srv.Etcd.Endpoint, rev) },
		}
	})
}

// wipe deletes every projectcalico.org/v3 custom resource.
func wipe(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	for _, k := range v3.Kinds() {
		gvr := schema.GroupVersionResource{Group: k8s.Group, Version: k8s.Version, Resource: k.Plural}
		if !k.Namespaced {
			if err := dyn.Resource(gvr).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				t.Fatalf("wipe %s: %v", gvr.Resource, err)
			}
			continue
		}
		l, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("wipe %s: %v", gvr.Resource, err)
		}
		seen := map[string]bool{}
		for _, o := range l.Items {
			ns := o.GetNamespace()
			if seen[ns] {
				continue
			}
			seen[ns] = true
			if err := dyn.Resource(gvr).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				t.Fatalf("wipe %s in %s: %v", gvr.Resource, ns, err)
			}
		}
	}
}

// compactEtcd discards etcd history before rev (a resourceVersion is an etcd
// revision).
func compactEtcd(t *testing.T, endpoint, rev string) {
	t.Helper()
	n, err := strconv.ParseInt(rev, 10, 64)
	if err != nil {
		t.Fatalf("compact at %q: %v", rev, err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Compact(ctx, n, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact etcd at %d: %v", n, err)
	}
}
