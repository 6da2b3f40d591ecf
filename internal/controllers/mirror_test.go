package controllers

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// In etcd mode, Namespaces, ServiceAccounts and NetworkPolicies appear in
// etcd as kns.*, ksa.* and knp.default.* and follow every change and
// deletion; a stale knp.default.* with no Kubernetes object is removed;
// Calico's own resources are untouched; pod labels reach the pod's
// WorkloadEndpoint written by the CNI plugin.
func TestMirrors_EtcdModeFollowsKubernetes(t *testing.T) {
	cl := newCluster(t)
	ctx := context.Background()
	cl.namespace("shop", map[string]string{"team": "red"})
	if _, err := cl.kube.CoreV1().ServiceAccounts("shop").Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tcp := corev1.ProtocolTCP
	if _, err := cl.kube.NetworkingV1().NetworkPolicies("shop").Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-web"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}}}},
		}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Left over from a deleted policy while no controller ran.
	stale := datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: "shop", Name: "knp.default.gone"}
	if _, err := cl.be.Create(ctx, &datastore.KVPair{Key: stale, Value: []byte(
		`{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"knp.default.gone","namespace":"shop"},"spec":{"tier":"default","selector":"all()"}}`)}); err != nil {
		t.Fatal(err)
	}
	// A Calico profile of the user's own: not the mirror's.
	own := v3.NewProfile()
	own.Name = "my-profile"
	if _, err := cl.c.Create(ctx, own); err != nil {
		t.Fatal(err)
	}
	// A pod whose endpoint the CNI plugin wrote to etcd.
	cl.node("node-a")
	pod := cl.pod("shop", "web-1", "node-a", map[string]string{"app": "web"})
	wep, err := conversion.PodToWorkloadEndpoint(pod)
	if err != nil {
		t.Fatal(err)
	}
	wep.ResourceVersion, wep.UID = "", ""
	wep.Spec.IPNetworks = []string{"10.244.0.5/32"}
	if _, err := cl.c.Create(ctx, wep); err != nil {
		t.Fatal(err)
	}

	cl.start(Config{Enabled: []string{ControllerPolicy, ControllerNamespace, ControllerServiceAccount, ControllerWorkloadEndpoint},
		ReconcilerPeriod: time.Hour})

	kns := datastore.Key{Kind: v3.KindProfile, Name: "kns.shop"}
	ksa := datastore.Key{Kind: v3.KindProfile, Name: "ksa.shop.web"}
	knp := datastore.Key{Kind: v3.KindNetworkPolicy, Namespace: "shop", Name: "knp.default.allow-web"}
	eventually(t, 30*time.Second, "kns.shop, ksa.shop.web and knp.default.allow-web exist", func() bool {
		return cl.exists(kns) && cl.exists(ksa) && cl.exists(knp)
	})
	var np v3.NetworkPolicy
	cl.decode(knp, &np)
	if np.Spec.Selector != "projectcalico.org/orchestrator == 'k8s' && app == 'web'" || len(np.Spec.Ingress) != 1 {
		t.Errorf("knp.default.allow-web spec %+v", np.Spec)
	}
	var prof v3.Profile
	cl.decode(kns, &prof)
	if prof.Spec.LabelsToApply["pcns.team"] != "red" {
		t.Errorf("kns.shop labelsToApply %v", prof.Spec.LabelsToApply)
	}
	eventually(t, 30*time.Second, "the stale knp.default.gone is deleted", func() bool { return !cl.exists(stale) })
	if !cl.exists(datastore.Key{Kind: v3.KindProfile, Name: "my-profile"}) {
		t.Error("the user's own profile was deleted")
	}

	// Changes follow.
	ns, err := cl.kube.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Labels["team"] = "blue"
	if _, err := cl.kube.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "kns.shop carries the new namespace label", func() bool {
		var p v3.Profile
		cl.decode(kns, &p)
		return p.Spec.LabelsToApply["pcns.team"] == "blue"
	})
	pod, err = cl.kube.CoreV1().Pods("shop").Get(ctx, "web-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Labels["version"] = "v2"
	if _, err := cl.kube.CoreV1().Pods("shop").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wepKey := datastore.Key{Kind: v3.KindWorkloadEndpoint, Namespace: "shop", Name: wep.Name}
	eventually(t, 30*time.Second, "the endpoint carries the new pod label", func() bool {
		var w v3.WorkloadEndpoint
		cl.decode(wepKey, &w)
		return w.Labels["version"] == "v2" && w.Labels["app"] == "web" && w.Labels["projectcalico.org/namespace"] == "shop"
	})
	var w v3.WorkloadEndpoint
	cl.decode(wepKey, &w)
	if want := []string{"10.244.0.5/32"}; len(w.Spec.IPNetworks) != 1 || w.Spec.IPNetworks[0] != want[0] {
		t.Errorf("the label update changed the endpoint's IPs: %v", w.Spec.IPNetworks)
	}

	// Deletions follow.
	if err := cl.kube.NetworkingV1().NetworkPolicies("shop").Delete(ctx, "allow-web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cl.kube.CoreV1().ServiceAccounts("shop").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "knp.default.allow-web and ksa.shop.web are deleted", func() bool {
		return !cl.exists(knp) && !cl.exists(ksa)
	})
}

// An unchanged Kubernetes object is not rewritten: the stored revision
// stays (no write storm on resync).
func TestWriteMirrored_NoWriteWhenUnchanged(t *testing.T) {
	be := memory.New()
	defer be.Close()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "quiet", UID: "u-1", Labels: map[string]string{"a": "b"}}}
	key := datastore.Key{Kind: v3.KindProfile, Name: "kns.quiet"}
	if err := writeMirrored(ctx, be, key, conversion.NamespaceToProfile(ns)); err != nil {
		t.Fatal(err)
	}
	first, err := be.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeMirrored(ctx, be, key, conversion.NamespaceToProfile(ns)); err != nil {
		t.Fatal(err)
	}
	second, _ := be.Get(ctx, key)
	if first.Revision != second.Revision {
		t.Errorf("unchanged profile rewritten: revision %s → %s", first.Revision, second.Revision)
	}
	ns.Labels = maps.Clone(ns.Labels)
	ns.Labels["a"] = "c"
	if err := writeMirrored(ctx, be, key, conversion.NamespaceToProfile(ns)); err != nil {
		t.Fatal(err)
	}
	third, _ := be.Get(ctx, key)
	if third.Revision == second.Revision {
		t.Error("changed profile not rewritten")
	}
}

// decode reads key from the datastore into v (zero value when absent).
func (cl *cluster) decode(key datastore.Key, v any) {
	cl.t.Helper()
	kv, err := cl.be.Get(context.Background(), key)
	if err != nil {
		return
	}
	if err := json.Unmarshal(kv.Value, v); err != nil {
		cl.t.Fatal(err)
	}
}
