package client

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestOpen_KubernetesConfigErrors(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	tests := []struct {
		name string
		kube KubeConfig
		want string
	}{
		{"missing kubeconfig file", KubeConfig{Kubeconfig: "/nonexistent/kubeconfig"}, "kubeconfig /nonexistent/kubeconfig"},
		{"nothing set and not in a pod", KubeConfig{}, "set KUBECONFIG"},
		{"unreachable endpoint", KubeConfig{K8sAPIEndpoint: "https://127.0.0.1:1", K8sInsecureSkipTLSVerify: true}, "https://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{CalicoAPIConfigSpec: CalicoAPIConfigSpec{DatastoreType: DatastoreKubernetes, KubeConfig: tt.kube}, Source: "test"}
			_, _, err := Open(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestOpen_KubernetesFromKUBECONFIG opens DATASTORE_TYPE=kubernetes as
// calicoctl does (environment → LoadConfig → Open) against a real API
// server: CRD kinds are writable, derived kinds are served and refuse writes.
func TestOpen_KubernetesFromKUBECONFIG(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	ctx := context.Background()
	env := map[string]string{"DATASTORE_TYPE": "kubernetes", "KUBECONFIG": testutil.WriteKubeconfig(t, rc)}
	cfg, err := LoadConfig(t.TempDir()+"/absent.cfg", func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("an explicit missing config file must be an error")
	}
	cfg, err = LoadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	c, closer, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer closer()

	p := v3.NewIPPool()
	p.Name, p.Spec.CIDR = "kdd-pool", "10.244.0.0/16"
	if _, err := c.Create(ctx, p); err != nil {
		t.Fatalf("create IPPool (CRD): %v", err)
	}
	if _, err := Get[*v3.IPPool](ctx, c, "", "kdd-pool"); err != nil {
		t.Fatalf("get IPPool: %v", err)
	}

	cs := kubernetes.NewForConfigOrDie(rc)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"tier": "web"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prof, err := Get[*v3.Profile](ctx, c, "", "kns.team-a")
	if err != nil {
		t.Fatalf("get the namespace's profile: %v", err)
	}
	if prof.Spec.LabelsToApply["pcns.tier"] != "web" {
		t.Errorf("profile labels = %v; want pcns.tier=web", prof.Spec.LabelsToApply)
	}

	wep := v3.NewWorkloadEndpoint()
	wep.Name, wep.Namespace = "n1-k8s-pod-eth0", "team-a"
	wep.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: "n1", Pod: "pod", Endpoint: "eth0", InterfaceName: "cali0123456789a", IPNetworks: []string{"10.244.0.5/32"}}
	_, err = c.Create(ctx, wep)
	if !errors.Is(err, k8s.ErrReadOnly) || !strings.Contains(err.Error(), "change the Pod") {
		t.Errorf("create WorkloadEndpoint: err = %v; want a read-only refusal naming the Pod", err)
	}
	prof.Spec.LabelsToApply["x"] = "y"
	if _, err := c.Update(ctx, prof); !errors.Is(err, k8s.ErrReadOnly) {
		t.Errorf("update a namespace profile: err = %v; want read-only", err)
	}
	other := v3.NewProfile()
	other.Name = "my-profile"
	if _, err := c.Create(ctx, other); !errors.Is(err, k8s.ErrReadOnly) || !strings.Contains(err.Error(), "Namespaces") {
		t.Errorf("create a Profile: err = %v; want read-only naming Namespaces", err)
	}
}
