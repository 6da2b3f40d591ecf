package installcni

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// kubeNamespace is where the test's calico-node runs (not kube-system, to
// show the CNI account is looked up in calico-node's own namespace).
const kubeNamespace = "tricolor-system"

// Against a real kube-apiserver: calico-node's service account (allowed to
// mint tokens for calico-cni-plugin, custom-cni, absent-cni and late-cni,
// not for locked-cni) runs install-cni and the refresher; the API server
// itself says whose token each kubeconfig carries (SelfSubjectReview
// through the written file).
func TestCNIToken_AgainstTheAPIServer(t *testing.T) {
	rc := testutil.StartKubeAPIServerProcess(t, testutil.KubeAPIServerOptions{SkipCRDs: true}).Config
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(rc)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	createSA := func(name string) {
		t.Helper()
		_, err := admin.CoreV1().ServiceAccounts(kubeNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		must(err)
	}
	_, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kubeNamespace}}, metav1.CreateOptions{})
	must(err)
	for _, sa := range []string{"calico-node", "calico-cni-plugin", "custom-cni", "locked-cni"} {
		createSA(sa)
	}
	_, err = admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-cni-token-minter"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, Verbs: []string{"create"},
			ResourceNames: []string{"calico-cni-plugin", "custom-cni", "absent-cni", "late-cni"}}}}, metav1.CreateOptions{})
	must(err)
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-cni-token-minter"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "test-cni-token-minter"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: kubeNamespace, Name: "calico-node"}}}, metav1.CreateOptions{})
	must(err)
	hour := int64(3600)
	podTok, err := admin.CoreV1().ServiceAccounts(kubeNamespace).CreateToken(ctx, "calico-node",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &hour}}, metav1.CreateOptions{})
	must(err)
	ca, err := os.ReadFile(rc.TLSClientConfig.CAFile)
	must(err)
	server, err := url.Parse(rc.Host)
	must(err)

	// podLayout is layout() as calico-node's pod on this API server sees it.
	podLayout := func(t *testing.T, account string) Config {
		cfg := layout(t)
		for name, data := range map[string]string{"token": podTok.Status.Token, "ca.crt": string(ca), "namespace": kubeNamespace} {
			must(os.WriteFile(filepath.Join(cfg.ServiceAccountDir, name), []byte(data), 0o600))
		}
		cfg.ServiceHost, cfg.ServicePort, cfg.CNIServiceAccount = server.Hostname(), server.Port(), account
		return cfg
	}
	// whoami asks the API server who the kubeconfig's token is.
	whoami := func(t *testing.T, cfg Config) string {
		t.Helper()
		kc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(cfg.HostNetDir, DefaultKubeconfigName))
		must(err)
		r, err := kubernetes.NewForConfigOrDie(kc).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("the CNI kubeconfig does not authenticate: %v", err)
		}
		return r.Status.UserInfo.Username
	}
	sa := func(name string) string { return "system:serviceaccount:" + kubeNamespace + ":" + name }

	t.Run("install-cni writes a 24 h calico-cni-plugin token", func(t *testing.T) {
		cfg := podLayout(t, DefaultCNIServiceAccount)
		res, err := Install(ctx, cfg)
		must(err)
		if got := whoami(t, cfg); got != sa("calico-cni-plugin") {
			t.Errorf("kubeconfig authenticates as %q, want %q", got, sa("calico-cni-plugin"))
		}
		if res.Account != sa("calico-cni-plugin") || len(res.Warnings) != 0 {
			t.Errorf("result account %q, warnings %q", res.Account, res.Warnings)
		}
		c, ok := jwtClaims(kubeconfigToken(t, cfg))
		if left := time.Until(time.Unix(c.Expiry, 0)); !ok || left < CNITokenLifetime-time.Minute || left > CNITokenLifetime+time.Minute {
			t.Errorf("token expires in %v (claims %+v), want about %v", left, c, CNITokenLifetime)
		}
	})

	t.Run("CALICO_CNI_SERVICE_ACCOUNT names the account", func(t *testing.T) {
		cfg := podLayout(t, "custom-cni")
		_, err := Install(ctx, cfg)
		must(err)
		if got := whoami(t, cfg); got != sa("custom-cni") {
			t.Errorf("kubeconfig authenticates as %q, want %q", got, sa("custom-cni"))
		}
	})

	t.Run("a missing account falls back to the pod's token with a warning", func(t *testing.T) {
		cfg := podLayout(t, "absent-cni")
		res, err := Install(ctx, cfg)
		must(err)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], kubeNamespace+"/absent-cni does not exist") ||
			!strings.Contains(res.Warnings[0], "manifests/tricolor.yaml") {
			t.Errorf("warnings %q", res.Warnings)
		}
		if got := whoami(t, cfg); got != sa("calico-node") {
			t.Errorf("fallback kubeconfig authenticates as %q, want the pod's own %q", got, sa("calico-node"))
		}
		if res.Account != sa("calico-node") {
			t.Errorf("result account %q", res.Account)
		}
	})

	t.Run("a refused TokenRequest is an error naming the RBAC fix", func(t *testing.T) {
		cfg := podLayout(t, "locked-cni")
		_, err := Install(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "create on serviceaccounts/token for locked-cni") {
			t.Fatalf("error %v, want the missing permission named", err)
		}
		if _, err := os.Stat(filepath.Join(cfg.HostNetDir, cfg.ConfName)); err == nil {
			t.Error("conflist written although the kubeconfig could not be")
		}
	})

	t.Run("the refresher rewrites the token before it expires", func(t *testing.T) {
		cfg := podLayout(t, DefaultCNIServiceAccount)
		_, err := Install(ctx, cfg)
		must(err)
		first := kubeconfigToken(t, cfg)
		cfg.TokenRefreshInterval = 200 * time.Millisecond // else 6-12 h for a 24 h token
		var logs testutil.LockedBuffer
		r, err := NewRefresher(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		must(err)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		seen := map[string]bool{first: true}
		waitFor(t, "two refreshed tokens", func() bool {
			if tok := kubeconfigToken(t, cfg); tok != "" {
				seen[tok] = true
			}
			return len(seen) >= 3
		})
		stop()
		must(<-done)
		if got := whoami(t, cfg); got != sa("calico-cni-plugin") {
			t.Errorf("refreshed kubeconfig authenticates as %q", got)
		}
		if st, err := os.Stat(filepath.Join(cfg.HostNetDir, DefaultKubeconfigName)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("kubeconfig mode after refresh: %v %v", st.Mode().Perm(), err)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("refresh errors:\n%s", logs.String())
		}
	})

	t.Run("the refresher moves off the fallback once the account exists", func(t *testing.T) {
		cfg := podLayout(t, "late-cni")
		cfg.TokenRefreshInterval = 200 * time.Millisecond
		var logs testutil.LockedBuffer
		r, err := NewRefresher(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		must(err)
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		go func() { _ = r.Run(rctx) }()
		waitFor(t, "the fallback token", func() bool { return kubeconfigToken(t, cfg) == podTok.Status.Token })
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "late-cni does not exist") {
			t.Errorf("fallback not warned about:\n%s", logs.String())
		}
		createSA("late-cni")
		waitFor(t, "a late-cni token", func() bool { return kubeconfigToken(t, cfg) != podTok.Status.Token })
		if got := whoami(t, cfg); got != sa("late-cni") {
			t.Errorf("kubeconfig authenticates as %q, want %q", got, sa("late-cni"))
		}
	})
}
