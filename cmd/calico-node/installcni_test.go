package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tricolor-net/tricolor/internal/installcni"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// `calico-node install-cni` with the container paths given as flags: the
// binaries and the conflist land in the host directories; a template with
// an unknown placeholder fails with exit code 1 and writes nothing.
func TestInstallCNISubcommand(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"src", "bin", "net", "sa"} {
		dirs[d] = filepath.Join(root, d)
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dirs["src"], "calico"), []byte("bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_NODE_NAME", "node-1")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	args := []string{"install-cni", "-source-bin-dir", dirs["src"], "-host-bin-dir", dirs["bin"], "-host-net-dir", dirs["net"], "-service-account-dir", dirs["sa"]}

	t.Setenv("CNI_NETWORK_CONFIG", `{"name":"k8s-pod-network","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","x":"__NOPE__"}]}`)
	if code := run(args); code != 1 {
		t.Errorf("unknown placeholder: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(dirs["net"], "10-calico.conflist")); err == nil {
		t.Error("a failed install wrote the conflist")
	}

	t.Setenv("CNI_NETWORK_CONFIG", `{"name":"k8s-pod-network","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","mtu":__CNI_MTU__}]}`)
	if code := run(args); code != 0 {
		t.Fatalf("exit %d", code)
	}
	conf, err := os.ReadFile(filepath.Join(dirs["net"], "10-calico.conflist"))
	if err != nil || !strings.Contains(string(conf), `"nodename":"node-1","mtu":1500`) {
		t.Errorf("conflist %s (%v)", conf, err)
	}
	if _, err := os.Stat(filepath.Join(dirs["bin"], "calico")); err != nil {
		t.Errorf("binary not installed: %v", err)
	}
}

// calico-node's CNI token refresher runs in a pod unless
// CALICO_MANAGE_CNI is false, and writes a calico-cni-plugin token into
// the host's CNI directory (checked by the API server itself).
func TestCNITokenRefresher_RunsInAPodUnlessDisabled(t *testing.T) {
	srv := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{SkipCRDs: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(srv.Config)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "calico-cni-plugin"}}
	if _, err := admin.CoreV1().ServiceAccounts("kube-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(srv.Config.TLSClientConfig.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	saDir, netDir := t.TempDir(), t.TempDir()
	// The pod's own token: the test's admin, who may mint any account's token.
	for name, data := range map[string]string{"token": srv.Config.BearerToken, "ca.crt": string(ca), "namespace": "kube-system"} {
		if err := os.WriteFile(filepath.Join(saDir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(srv.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KUBERNETES_SERVICE_HOST": u.Hostname(), "KUBERNETES_SERVICE_PORT": u.Port(), "KUBERNETES_NODE_NAME": "node-1"}
	cfg, err := installcni.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServiceAccountDir, cfg.HostNetDir = saDir, netDir

	for _, off := range []string{"false", "False", "0"} {
		if newCNITokenRefresher(cfg, off) != nil {
			t.Errorf("CALICO_MANAGE_CNI=%s: refresher started", off)
		}
	}
	notInPod := cfg
	notInPod.ServiceHost = ""
	if newCNITokenRefresher(notInPod, "") != nil {
		t.Error("not in a pod: refresher started")
	}
	if cniTokenRefresher(func(string) string { return "" }) != nil {
		t.Error("empty environment (not in a pod): refresher started")
	}

	comp := newCNITokenRefresher(cfg, "true")
	if comp == nil {
		t.Fatal("in a pod with CALICO_MANAGE_CNI=true: no refresher")
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- comp.Run(rctx) }()
	kubeconfig := filepath.Join(netDir, installcni.DefaultKubeconfigName)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(kubeconfig); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresher wrote no kubeconfig")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("refresher returned %v on stop", err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	r, err := kubernetes.NewForConfigOrDie(rc).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || r.Status.UserInfo.Username != "system:serviceaccount:kube-system:calico-cni-plugin" {
		t.Errorf("refreshed kubeconfig authenticates as %+v (%v), want calico-cni-plugin", r, err)
	}
}
