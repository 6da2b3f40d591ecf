package controllers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// cluster is a real kube-apiserver plus Calico's datastore: in etcd (a
// separate Debian etcd, as in an etcd-mode cluster), or with kdd the
// Kubernetes datastore on the same API server (CRDs + views).
type cluster struct {
	t    *testing.T
	kdd  bool
	rc   *rest.Config
	kube kubernetes.Interface
	be   datastore.Backend
	c    *client.Client
	ipam *ipam.IPAM
}

func newCluster(t *testing.T) *cluster { return startCluster(t, false) }

// onEachDatastore runs story as subtests "etcd" and "kubernetes", each on
// its own cluster.
func onEachDatastore(t *testing.T, story func(t *testing.T, cl *cluster)) {
	for _, mode := range []struct {
		name string
		kdd  bool
	}{{"etcd", false}, {"kubernetes", true}} {
		t.Run(mode.name, func(t *testing.T) { story(t, startCluster(t, mode.kdd)) })
	}
}

func startCluster(t *testing.T, kdd bool) *cluster {
	t.Helper()
	rc := testutil.StartKubeAPIServer(t)
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	var be datastore.Backend
	if kdd {
		be, err = k8s.NewKDD(rc)
	} else {
		be, err = etcd.New(etcd.Config{Endpoints: []string{testutil.StartEtcd(t)}})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	cl := &cluster{t: t, kdd: kdd, rc: rc, kube: kube, be: be, c: client.New(be), ipam: ipam.New(be, ipam.Options{Logger: testLogger()})}
	pool := v3.NewIPPool()
	pool.Name = "default-ipv4-ippool"
	pool.Spec.CIDR = "10.244.0.0/16"
	if _, err := cl.c.Create(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return cl
}

func testLogger() *slog.Logger {
	if os.Getenv("CONTROLLERS_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a Manager until the test ends and waits until it leads.
func (cl *cluster) start(cfg Config) *Manager {
	cl.t.Helper()
	return cl.startAs(cfg, cl.kube, cl.be)
}

// startAs is start with other clients (another identity).
func (cl *cluster) startAs(cfg Config, kube kubernetes.Interface, be datastore.Backend) *Manager {
	cl.t.Helper()
	cfg.Kubernetes = cl.kdd
	m := New(cfg, kube, be, testLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx)
	}()
	cl.t.Cleanup(func() { cancel(); <-done })
	eventually(cl.t, 30*time.Second, "the manager leads with its caches synced", func() bool { return m.health.get() == "leading" })
	return m
}

// node creates a Kubernetes Node and, in etcd mode, its Calico Node.
func (cl *cluster) node(name string) { cl.t.Helper(); cl.labelledNode(name, nil) }

// labelledNode is node with labels on the Kubernetes Node.
func (cl *cluster) labelledNode(name string, labels map[string]string) {
	cl.t.Helper()
	ctx := context.Background()
	if _, err := cl.kube.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		cl.t.Fatal(err)
	}
	if cl.kdd {
		return // the Calico Node is the Kubernetes Node
	}
	cl.calicoNode(name, &v3.OrchRef{Orchestrator: "k8s", NodeName: name})
}

func (cl *cluster) calicoNode(name string, ref *v3.OrchRef) {
	cl.t.Helper()
	n := v3.NewNode()
	n.Name = name
	if ref != nil {
		n.Spec.OrchRefs = []v3.OrchRef{*ref}
	}
	if _, err := cl.c.Create(context.Background(), n); err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *cluster) namespace(name string, labels map[string]string) {
	cl.t.Helper()
	_, err := cl.kube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *cluster) pod(ns, name, node string, labels map[string]string) *corev1.Pod {
	cl.t.Helper()
	p, err := cl.kube.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "example.invalid/app"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		cl.t.Fatal(err)
	}
	return p
}

func (cl *cluster) deletePod(ns, name string) {
	cl.t.Helper()
	zero := int64(0)
	if err := cl.kube.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		cl.t.Fatal(err)
	}
}

// allocate assigns one address as the CNI plugin would for pod ns/name
// on node (a tunnel address when pod is "").
func (cl *cluster) allocate(handle, node, ns, pod string) netip.Addr {
	cl.t.Helper()
	attrs := map[string]string{ipam.AttrNode: node}
	use := ipam.UseWorkload
	if pod != "" {
		attrs[ipam.AttrNamespace], attrs[ipam.AttrPod] = ns, pod
	} else {
		use = ipam.UseTunnel
	}
	v4, _, err := cl.ipam.AutoAssign(context.Background(), ipam.AutoAssignArgs{Num4: 1, HandleID: handle, Attrs: attrs, Hostname: node, IntendedUse: use})
	if err != nil {
		cl.t.Fatal(err)
	}
	return v4.Addrs()[0]
}

// allocated reports whether handle still holds an address.
func (cl *cluster) allocated(handle string) bool {
	cl.t.Helper()
	ips, err := cl.ipam.IPsByHandle(context.Background(), handle)
	if err != nil && !errors.Is(err, ipam.ErrNoSuchAllocation) {
		cl.t.Fatal(err)
	}
	return len(ips) > 0
}

// exists reports whether key is in the Calico datastore.
func (cl *cluster) exists(key datastore.Key) bool {
	cl.t.Helper()
	_, err := cl.be.Get(context.Background(), key)
	if err != nil && !errors.Is(err, datastore.ErrNotFound) {
		cl.t.Fatal(err)
	}
	return err == nil
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cuttable is a transport that fails every request once cut, to kill an
// instance's access to the API server as a crash or partition would.
type cuttable struct {
	rt  http.RoundTripper
	cut *atomic.Bool
}

func (c cuttable) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errors.New("connection cut by the test")
	}
	return c.rt.RoundTrip(r)
}
