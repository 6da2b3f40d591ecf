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

// runOnServer runs the shared datastore suite against one real
// kube-apiserver (with etcd) shared by all cases. Each case starts from an
// empty store (every custom resource deleted) with the harness newHarness
// returns for it, with Restart set to restart the API server process.
// NamespaceLifecycle is off: the suite writes into namespaces nobody
// created, and the test cluster runs no namespace controller.
func runOnServer(t *testing.T, newHarness func(t *testing.T, srv *testutil.KubeAPIServer) conformance.Harness) {
	start := time.Now()
	srv := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{DisableAdmission: []string{"NamespaceLifecycle"}})
	t.Logf("kube-apiserver + etcd + CRDs ready in %s", time.Since(start).Round(time.Millisecond))
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		wipe(t, dyn)
		h := newHarness(t, srv)
		h.Restart = func(t *testing.T) { srv.Restart() }
		return h
	})
}

// TestConformance runs the shared datastore suite against the CRD backend
// (k8s.New) on a real API server; Compact compacts the etcd behind it.
func TestConformance(t *testing.T) {
	runOnServer(t, func(t *testing.T, srv *testutil.KubeAPIServer) conformance.Harness {
		b, err := k8s.New(srv.Config)
		if err != nil {
			t.Fatal(err)
		}
		return conformance.Harness{
			Backend: payloadBackend{b},
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
