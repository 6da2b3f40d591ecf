package k8s_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestKDD covers what only the Kubernetes backend does, against one real
// API server with the default admission chain (NamespaceLifecycle on).
func TestKDD(t *testing.T) {
	srv := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{})
	b, err := k8s.New(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(srv.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("RealResourceRoundTripsThroughTheCRD", func(t *testing.T) {
		pool := v3.NewIPPool()
		pool.Name = "pool-a"
		pool.Labels = map[string]string{"zone": "a"}
		pool.Spec.CIDR = "10.244.0.0/16"
		pool.Spec.BlockSize = 26
		pool.Spec.NATOutgoing = true
		value, _ := json.Marshal(pool)
		created, err := b.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "pool-a"}, Value: value})
		if err != nil {
			t.Fatal(err)
		}
		got := v3.NewIPPool()
		if err := json.Unmarshal(created.Value, got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.CIDR != "10.244.0.0/16" || got.Spec.BlockSize != 26 || !got.Spec.NATOutgoing || got.Labels["zone"] != "a" {
			t.Fatalf("stored pool lost fields: %s", created.Value)
		}
		if got.UID == "" || got.CreationTimestamp.IsZero() || got.ResourceVersion != "" {
			t.Fatalf("want server-set uid and creationTimestamp and no resourceVersion in the value: %s", created.Value)
		}
		got.Spec.BlockSize = 28
		value, _ = json.Marshal(got)
		updated, err := b.Update(ctx, &datastore.KVPair{Key: created.Key, Value: value, Revision: created.Revision})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Revision == created.Revision || !strings.Contains(string(updated.Value), `"blockSize":28`) {
			t.Fatalf("update = %s at %s (was %s)", updated.Value, updated.Revision, created.Revision)
		}
	})

	t.Run("StatusIsWrittenThroughTheStatusSubresource", func(t *testing.T) {
		key := datastore.Key{Kind: "KubeControllersConfiguration", Name: "default"}
		created, err := b.Create(ctx, &datastore.KVPair{Key: key,
			Value: []byte(`{"spec":{"controllers":{},"healthChecks":"Enabled"},"status":{"environmentVars":{"ENABLED_CONTROLLERS":"node"}}}`)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(created.Value), `"ENABLED_CONTROLLERS":"node"`) {
			t.Fatalf("created value lost its status: %s", created.Value)
		}
		got, err := b.Get(ctx, key)
		if err != nil || got.Revision != created.Revision || string(got.Value) != string(created.Value) {
			t.Fatalf("Get = %v, %v; want what Create returned", got, err)
		}
		// A status-only change is a new revision; the stale revision then conflicts.
		value := strings.Replace(string(got.Value), `"ENABLED_CONTROLLERS":"node"`, `"ENABLED_CONTROLLERS":"node,policy"`, 1)
		updated, err := b.Update(ctx, &datastore.KVPair{Key: key, Value: []byte(value), Revision: got.Revision})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Revision == got.Revision || !strings.Contains(string(updated.Value), `"node,policy"`) {
			t.Fatalf("status update = %s at %s (was %s)", updated.Value, updated.Revision, got.Revision)
		}
		if _, err := b.Update(ctx, &datastore.KVPair{Key: key, Value: []byte(value), Revision: got.Revision}); !errors.Is(err, datastore.ErrConflict) {
			t.Fatalf("update at the pre-status revision: err = %v; want ErrConflict", err)
		}
	})

	t.Run("SchemaViolationNamesTheFieldAndChangesNothing", func(t *testing.T) {
		key := datastore.Key{Kind: "IPPool", Name: "no-cidr"}
		_, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: []byte(`{"spec":{"blockSize":26}}`)})
		if err == nil || !strings.Contains(err.Error(), "spec.cidr") || !strings.Contains(err.Error(), "IPPool(no-cidr)") {
			t.Fatalf("create without spec.cidr: err = %v; want an error naming IPPool(no-cidr) and spec.cidr", err)
		}
		if _, err := b.Get(ctx, key); !errors.Is(err, datastore.ErrNotFound) {
			t.Fatalf("rejected create stored something: %v", err)
		}
	})

	t.Run("MissingNamespaceSaysToCreateIt", func(t *testing.T) {
		key := datastore.Key{Kind: "NetworkPolicy", Namespace: "not-yet", Name: "p"}
		_, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: []byte(`{"spec":{"selector":"all()"}}`)})
		if err == nil || errors.Is(err, datastore.ErrNotFound) || !strings.Contains(err.Error(), `namespace "not-yet" does not exist`) {
			t.Fatalf("create in a missing namespace: err = %v", err)
		}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "not-yet"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: []byte(`{"spec":{"selector":"all()"}}`)}); err != nil {
			t.Fatalf("create after the namespace exists: %v", err)
		}
	})

	t.Run("NativeObjectsConvertAsServed", func(t *testing.T) {
		ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "blue"}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		prof := conversion.NamespaceToProfile(ns)
		// The API server adds kubernetes.io/metadata.name to every namespace.
		if prof.Name != "kns.shop" || prof.Spec.LabelsToApply["pcns.team"] != "blue" || prof.Spec.LabelsToApply["pcns.kubernetes.io/metadata.name"] != "shop" {
			t.Fatalf("namespace profile = %+v", prof)
		}
		pod, err := cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-0", Labels: map[string]string{"app": "web"},
				Annotations: map[string]string{conversion.AnnotationPodIP: "10.244.3.4/32"}},
			Spec: corev1.PodSpec{NodeName: "node-1", ServiceAccountName: "web", Containers: []corev1.Container{{
				Name: "web", Image: "example.invalid/web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wep, err := conversion.PodToWorkloadEndpoint(pod)
		if err != nil {
			t.Fatal(err)
		}
		if wep.Name != "node--1-k8s-web--0-eth0" || strings.Join(wep.Spec.IPNetworks, ",") != "10.244.3.4/32" ||
			len(wep.Spec.Ports) != 1 || wep.Spec.Ports[0].Protocol.String() != "TCP" || wep.Labels["projectcalico.org/serviceaccount"] != "web" {
			t.Fatalf("workload endpoint = %+v", wep)
		}
		port := intstr.FromInt32(5432)
		np, err := cs.NetworkingV1().NetworkPolicies("shop").Create(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "db"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &port}}}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The server defaults the port's protocol (TCP) and policyTypes (Ingress).
		cnp, err := conversion.NetworkPolicyToCalico(np)
		if err != nil {
			t.Fatal(err)
		}
		if cnp.Name != "knp.default.db" || len(cnp.Spec.Ingress) != 1 || cnp.Spec.Ingress[0].Protocol.String() != "TCP" ||
			cnp.Spec.Ingress[0].Destination.Ports[0].String() != "5432" || len(cnp.Spec.Types) != 1 {
			t.Fatalf("converted policy = %+v", cnp.Spec)
		}
		if err := cnp.Validate(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ReadOnlyViewsOfNativeObjects", func(t *testing.T) {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "views", Labels: map[string]string{"env": "test"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ServiceAccounts("views").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot", Labels: map[string]string{"kind": "bot"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		nsProfiles, _ := k8s.NewNamespaceProfiles(srv.Config)
		saProfiles, _ := k8s.NewServiceAccountProfiles(srv.Config)
		peps, _ := k8s.NewPodWorkloadEndpoints(srv.Config)
		knps, _ := k8s.NewKubernetesNetworkPolicies(srv.Config)

		got, err := nsProfiles.Get(ctx, datastore.Key{Kind: "Profile", Name: "kns.views"})
		if err != nil || !strings.Contains(string(got.Value), `"pcns.env":"test"`) {
			t.Fatalf("Get Profile(kns.views) = %v, %v", got, err)
		}
		got, err = saProfiles.Get(ctx, datastore.Key{Kind: "Profile", Name: "ksa.views.robot"})
		if err != nil || !strings.Contains(string(got.Value), `"pcsa.kind":"bot"`) {
			t.Fatalf("Get Profile(ksa.views.robot) = %v, %v", got, err)
		}
		if l, err := nsProfiles.List(ctx, datastore.ListOptions{Kind: "Profile", NamePrefix: "kns.vi"}); err != nil || len(l.Items) != 1 {
			t.Fatalf("List kns.vi* = %v, %v", l, err)
		}
		if _, err := nsProfiles.Update(ctx, got); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("Update of a view: err = %v; want read-only", err)
		}

		// A pod's endpoint follows the pod: list, then watch label changes
		// and the pod's deletion from the list revision.
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "views", Labels: map[string]string{"app": "db"},
				Annotations: map[string]string{conversion.AnnotationPodIP: "10.244.9.9/32"}},
			Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "db", Image: "example.invalid/db"}}},
		}
		if _, err := cs.CoreV1().Pods("views").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		hostPod := pod.DeepCopy()
		hostPod.Name, hostPod.Spec.HostNetwork = "host-0", true
		if _, err := cs.CoreV1().Pods("views").Create(ctx, hostPod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		l, err := peps.List(ctx, datastore.ListOptions{Kind: "WorkloadEndpoint", Namespace: "views"})
		if err != nil || len(l.Items) != 1 || l.Items[0].Key.Name != "node--a-k8s-db--0-eth0" {
			t.Fatalf("List WorkloadEndpoints = %+v, %v; want only the non-host-network pod", l, err)
		}
		if _, err := peps.Get(ctx, l.Items[0].Key); err != nil {
			t.Fatalf("Get %s: %v", l.Items[0].Key, err)
		}
		w, err := peps.Watch(ctx, datastore.ListOptions{Kind: "WorkloadEndpoint", Namespace: "views"}, l.Revision)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		cur, err := cs.CoreV1().Pods("views").Get(ctx, "db-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Labels["role"] = "primary"
		if _, err := cs.CoreV1().Pods("views").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Pods("views").Delete(ctx, "db-0", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		// Deleting a scheduled pod first sets its deletionTimestamp (a
		// modification), then removes it.
		var evs []datastore.WatchEvent
		timeout := time.After(15 * time.Second)
		for len(evs) == 0 || evs[len(evs)-1].Type != datastore.EventDeleted {
			select {
			case ev := <-w.Events():
				evs = append(evs, ev)
			case <-timeout:
				t.Fatalf("watch delivered no deletion within 15s: %+v", evs)
			}
		}
		last := evs[len(evs)-1]
		if evs[0].Type != datastore.EventModified || !strings.Contains(string(evs[0].New.Value), `"role":"primary"`) ||
			last.Previous == nil || last.Previous.Key.Name != "node--a-k8s-db--0-eth0" {
			t.Fatalf("watch events = %+v; want the label change first and the endpoint's deletion last", evs)
		}

		port := intstr.FromString("http")
		if _, err := cs.NetworkingV1().NetworkPolicies("views").Create(ctx, &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec:       networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &port}}}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		np, err := knps.Get(ctx, datastore.Key{Kind: "NetworkPolicy", Namespace: "views", Name: "knp.default.web"})
		if err != nil || !strings.Contains(string(np.Value), `"ports":["http"]`) {
			t.Fatalf("Get NetworkPolicy(views/knp.default.web) = %v, %v", np, err)
		}
		if _, err := knps.Get(ctx, datastore.Key{Kind: "NetworkPolicy", Namespace: "views", Name: "web"}); !errors.Is(err, datastore.ErrNotFound) {
			t.Fatalf("Get without the knp.default. prefix: err = %v; want ErrNotFound", err)
		}
	})

	t.Run("UninstalledCRDSaysWhichToInstall", func(t *testing.T) {
		dyn := dynamic.NewForConfigOrDie(srv.Config)
		crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		if err := dyn.Resource(crds).Delete(ctx, "tiers.projectcalico.org", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := b.List(ctx, datastore.ListOptions{Kind: "Tier"})
			if err != nil && strings.Contains(err.Error(), "install the CRD tiers.projectcalico.org") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("List of an uninstalled kind: err = %v; want advice to install tiers.projectcalico.org", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}
