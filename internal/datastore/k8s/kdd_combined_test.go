package k8s_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestKDDCombined covers the combined kubernetes datastore (k8s.KDD)
// against one real API server: Node reads and writes through the Kubernetes
// Node, the composite NetworkPolicy kind, read-only refusals, and the
// syncer over derived kinds.
func TestKDDCombined(t *testing.T) {
	srv := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{})
	kdd, err := k8s.NewKDD(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := kdd.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	mustNamespace(t, cs, "team-a")

	t.Run("NodeWritesGoToKubernetesNodeAnnotations", func(t *testing.T) {
		kn := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kdd-n1", Labels: map[string]string{"rack": "r1"}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, kn, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		key := datastore.Key{Kind: v3.KindNode, Name: "kdd-n1"}
		kv, err := kdd.Get(ctx, key)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		n := v3.NewNode()
		if err := json.Unmarshal(kv.Value, n); err != nil {
			t.Fatal(err)
		}
		if n.Labels["rack"] != "r1" || len(n.Spec.OrchRefs) != 1 || n.Spec.OrchRefs[0].NodeName != "kdd-n1" {
			t.Fatalf("calico node = %s", kv.Value)
		}
		n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.21/24", IPv4IPIPTunnelAddr: "10.244.9.1"}
		n.Spec.IPv4VXLANTunnelAddr = "10.244.9.2"
		value, _ := json.Marshal(n)
		updated, err := kdd.Update(ctx, &datastore.KVPair{Key: key, Value: value, Revision: kv.Revision})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		got, err := cs.CoreV1().Nodes().Get(ctx, "kdd-n1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"projectcalico.org/IPv4Address":         "198.18.0.21/24",
			"projectcalico.org/IPv4IPIPTunnelAddr":  "10.244.9.1",
			"projectcalico.org/IPv4VXLANTunnelAddr": "10.244.9.2",
		} {
			if got.Annotations[k] != want {
				t.Errorf("kubernetes node annotation %s = %q; want %q", k, got.Annotations[k], want)
			}
		}
		if updated.Revision != got.ResourceVersion {
			t.Errorf("update returned revision %s; the node is at %s", updated.Revision, got.ResourceVersion)
		}
		if _, err := kdd.Update(ctx, &datastore.KVPair{Key: key, Value: value, Revision: kv.Revision}); !errors.Is(err, datastore.ErrConflict) {
			t.Errorf("update at a stale revision: err = %v; want ErrConflict", err)
		}
		if _, err := kdd.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindNode, Name: "new"}, Value: value}); !errors.Is(err, k8s.ErrReadOnly) || !strings.Contains(err.Error(), "kubelet") {
			t.Errorf("create node: err = %v; want a refusal naming the kubelet", err)
		}
		if _, err := kdd.Delete(ctx, key, ""); !errors.Is(err, k8s.ErrReadOnly) {
			t.Errorf("delete node: err = %v; want read-only", err)
		}
		if _, err := kdd.Update(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindNode, Name: "absent"}, Value: value, Revision: "1"}); !errors.Is(err, datastore.ErrNotFound) {
			t.Errorf("update a node without a kubernetes node: err = %v; want ErrNotFound", err)
		}
	})

	t.Run("NetworkPolicyMergesCRDAndKubernetesPolicies", func(t *testing.T) {
		calico := v3.NewNetworkPolicy()
		calico.Name, calico.Namespace = "calico-pol", "team-a"
		calico.Spec.Selector = "all()"
		value, _ := json.Marshal(calico)
		if _, err := kdd.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: "team-a", Name: "calico-pol"}, Value: value}); err != nil {
			t.Fatalf("create calico policy: %v", err)
		}
		mustKubePolicy(t, cs, "team-a", "kube-pol")
		l, err := kdd.List(ctx, datastore.ListOptions{Kind: v3.KindNetworkPolicy})
		if err != nil {
			t.Fatal(err)
		}
		if got := keyNames(l.Items); strings.Join(got, ",") != "team-a/calico-pol,team-a/knp.default.kube-pol" {
			t.Fatalf("list = %v", got)
		}
		if parts := strings.Split(l.Revision, "/"); len(parts) != 2 {
			t.Fatalf("list revision %q: want two parts (knp views / CRDs)", l.Revision)
		}
		// The list at its own revision is the same list.
		again, err := kdd.List(ctx, datastore.ListOptions{Kind: v3.KindNetworkPolicy, Revision: l.Revision})
		if err != nil || len(again.Items) != 2 {
			t.Fatalf("list at %s: %v, %v", l.Revision, err, again)
		}
		// A watch from the list's revision sees later changes of both sources.
		w, err := kdd.Watch(ctx, datastore.ListOptions{Kind: v3.KindNetworkPolicy}, l.Revision)
		if err != nil {
			t.Fatal(err)
		}
		mustKubePolicy(t, cs, "team-a", "kube-pol-2")
		calico.Name = "calico-pol-2"
		value, _ = json.Marshal(calico)
		if _, err := kdd.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: "team-a", Name: "calico-pol-2"}, Value: value}); err != nil {
			t.Fatal(err)
		}
		evs := collect(t, w, 2)
		w.Stop()
		seen := map[string]string{}
		for _, ev := range evs {
			seen[ev.New.Key.Name] = ev.Revision
		}
		if _, ok := seen["knp.default.kube-pol-2"]; !ok {
			t.Errorf("no event for the kubernetes policy: %v", seen)
		}
		if _, ok := seen["calico-pol-2"]; !ok {
			t.Errorf("no event for the calico policy: %v", seen)
		}
		// Resuming from the last event's composite revision repeats nothing.
		w2, err := kdd.Watch(ctx, datastore.ListOptions{Kind: v3.KindNetworkPolicy}, evs[1].Revision)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Stop()
		mustKubePolicy(t, cs, "team-a", "kube-pol-3")
		if ev := collect(t, w2, 1)[0]; ev.New.Key.Name != "knp.default.kube-pol-3" {
			t.Errorf("first event after resuming = %s; want knp.default.kube-pol-3 only", ev.New.Key)
		}
		// knp.default.* belongs to Kubernetes.
		_, err = kdd.Delete(ctx, datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: "team-a", Name: "knp.default.kube-pol"}, "")
		if !errors.Is(err, k8s.ErrReadOnly) || !strings.Contains(err.Error(), "kubectl edit networkpolicy") {
			t.Errorf("delete knp.default.kube-pol: err = %v; want read-only naming the Kubernetes NetworkPolicy", err)
		}
		if _, err := kdd.List(ctx, datastore.ListOptions{Kind: v3.KindNetworkPolicy, Revision: "1/2/3"}); err == nil {
			t.Error("a revision with the wrong number of parts must be refused")
		}
	})

	t.Run("SyncerDeliversPodLabelChangeAsWorkloadEndpointUpdate", func(t *testing.T) {
		mustNode(t, cs, "kdd-n2")
		rec := newSyncRecorder()
		s := datastore.NewSyncer(kdd, []datastore.ListOptions{
			{Kind: v3.KindProfile}, {Kind: v3.KindWorkloadEndpoint}, {Kind: v3.KindNetworkPolicy}, {Kind: v3.KindNode},
		}, rec)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go s.Run(sctx)
		rec.waitFor(t, func(m map[datastore.Key]string) bool {
			return m[datastore.Key{Kind: v3.KindProfile, Name: "kns.team-a"}] != ""
		})
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "team-a", Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{NodeName: "kdd-n2", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}
		pod, err := cs.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wep := datastore.Key{Kind: v3.KindWorkloadEndpoint, Namespace: "team-a", Name: "kdd--n2-k8s-web--0-eth0"}
		rec.waitFor(t, func(m map[datastore.Key]string) bool { return strings.Contains(m[wep], `"app":"web"`) })
		pod.Labels["app"] = "api"
		if _, err := cs.CoreV1().Pods("team-a").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, func(m map[datastore.Key]string) bool { return strings.Contains(m[wep], `"app":"api"`) })
		node := datastore.Key{Kind: v3.KindNode, Name: "kdd-n2"}
		rec.waitFor(t, func(m map[datastore.Key]string) bool { return m[node] != "" })
		if err := cs.CoreV1().Pods("team-a").Delete(ctx, "web-0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, func(m map[datastore.Key]string) bool { _, ok := m[wep]; return !ok })
	})

	t.Run("ViewWatchSkipsModificationsThatLeaveTheViewUnchanged", func(t *testing.T) {
		mustNode(t, cs, "kdd-n3")
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "quiet-0", Namespace: "team-a", Labels: map[string]string{"app": "quiet"}},
			Spec:       corev1.PodSpec{NodeName: "kdd-n3", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}
		pod, err := cs.CoreV1().Pods("team-a").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := kdd.Watch(ctx, datastore.ListOptions{Kind: v3.KindWorkloadEndpoint, Namespace: "team-a"}, pod.ResourceVersion)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		pod.Labels["app"] = "one"
		if pod, err = cs.CoreV1().Pods("team-a").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// A status condition changes the Pod but not its WorkloadEndpoint.
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
		if pod, err = cs.CoreV1().Pods("team-a").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod.Labels["app"] = "two"
		if _, err := cs.CoreV1().Pods("team-a").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		evs := collect(t, w, 2)
		if !strings.Contains(string(evs[0].New.Value), `"app":"one"`) || !strings.Contains(string(evs[1].New.Value), `"app":"two"`) {
			t.Errorf("events = %s then %s; want the two label changes only (no event for the status update between them)", evs[0].New.Value, evs[1].New.Value)
		}
	})
}

func mustNamespace(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func mustNode(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func mustKubePolicy(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Create(context.Background(), np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func keyNames(items []datastore.KVPair) []string {
	var out []string
	for _, kv := range items {
		out = append(out, kv.Key.Namespace+"/"+kv.Key.Name)
	}
	return out
}

// collect reads n non-error events or fails after 20 s.
func collect(t *testing.T, w datastore.Watcher, n int) []datastore.WatchEvent {
	t.Helper()
	var out []datastore.WatchEvent
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch closed after %d events", len(out))
			}
			if ev.Type == datastore.EventError {
				t.Fatalf("watch error: %v", ev.Err)
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

// syncRecorder keeps the syncer's current view: key → value.
type syncRecorder struct {
	mu      sync.Mutex
	state   map[datastore.Key]string
	changed chan struct{}
}

func newSyncRecorder() *syncRecorder {
	return &syncRecorder{state: map[datastore.Key]string{}, changed: make(chan struct{}, 1)}
}

func (r *syncRecorder) OnStatusUpdated(datastore.SyncStatus) {}

func (r *syncRecorder) OnUpdates(us []datastore.Update) {
	r.mu.Lock()
	for _, u := range us {
		if u.UpdateType == datastore.UpdateTypeDeleted {
			delete(r.state, u.Key)
		} else {
			r.state[u.Key] = string(u.Value)
		}
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits up to 20 s for cond to hold on the recorded state.
func (r *syncRecorder) waitFor(t *testing.T, cond func(map[datastore.Key]string) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r.state)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("condition not met in 20 s; state has %d keys", len(r.state))
		}
	}
}
