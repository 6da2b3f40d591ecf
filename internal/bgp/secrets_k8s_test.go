package bgp

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestSecretNamespace(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := SecretNamespace(env(map[string]string{"NAMESPACE": "calico-system"})); got != "calico-system" {
		t.Errorf("NAMESPACE set: got %q", got)
	}
	// Outside a pod (no service-account file in the test environment).
	if got := SecretNamespace(env(nil)); got != DefaultSecretNamespace {
		t.Errorf("nothing set: got %q, want %q", got, DefaultSecretNamespace)
	}
}

// TestKubeSecretGetter_ReadsSecretsFromTheAPIServer resolves a BGPPeer's
// secretKeyRef against a real kube-apiserver, as calico-node does.
func TestKubeSecretGetter_ReadsSecretsFromTheAPIServer(t *testing.T) {
	cfg := testutil.StartKubeAPIServer(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "calico-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bgp-secrets", Namespace: "calico-system"},
		StringData: map[string]string{"rr-password": "very-secret"}}
	if _, err := cs.CoreV1().Secrets("calico-system").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	get, err := KubeSecretGetter(cfg, "calico-system")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := get("bgp-secrets", "rr-password"); err != nil || v != "very-secret" {
		t.Fatalf("get: %q, %v", v, err)
	}
	for _, tc := range []struct{ name, key, want string }{
		{"bgp-secrets", "other", `has no key "other"`},
		{"missing", "rr-password", "Secret calico-system/missing not found"},
	} {
		if _, err := get(tc.name, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("get(%s, %s): %v, want an error containing %q", tc.name, tc.key, err, tc.want)
		}
	}

	// Through Compute: the BGPPeer's session carries the password.
	st := &State{
		Nodes: []v3.Node{node("node-a", "198.18.0.11/24", nil)},
		BGPPeers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: 65000,
			Password: &v3.BGPPassword{SecretKeyRef: &v3.SecretKeySelector{Name: "bgp-secrets", Key: "rr-password"}}})},
	}
	d := mustCompute(t, "node-a", st, get)
	if len(d.Peers) != 1 || d.Peers[0].Password != "very-secret" || len(d.Problems) != 0 {
		t.Errorf("peers %+v problems %v: want the ToR with the secret's password", d.Peers, d.Problems)
	}
}
