package manifests_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tricolor-net/tricolor/internal/installcni"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// With the manifest's service accounts and RBAC applied for real,
// calico-node (its own token, as its pod has) gets the CNI plugin a
// calico-cni-plugin token through install-cni's refresher, and may mint
// tokens for nobody else; the calico-cni-plugin identity may do what the
// plugin does (Calico's calico-cni-plugin role) and no more.
func TestManifests_RBACGivesTheCNIPluginItsOwnToken(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	apply := applier(t, rc)
	for _, obj := range readObjects(t, "tricolor.yaml") {
		if slices.Contains([]string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}, obj.GetKind()) {
			if err := apply(obj, false); err != nil {
				t.Fatalf("apply %s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
		}
	}
	admin := kubernetes.NewForConfigOrDie(rc)
	const ns = "kube-system"
	hour := int64(3600)
	podTok, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "calico-node",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &hour}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(rc.TLSClientConfig.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	saDir, netDir := t.TempDir(), t.TempDir()
	for name, data := range map[string]string{"token": podTok.Status.Token, "ca.crt": string(ca), "namespace": ns} {
		if err := os.WriteFile(filepath.Join(saDir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	server, err := url.Parse(rc.Host)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KUBERNETES_SERVICE_HOST": server.Hostname(), "KUBERNETES_SERVICE_PORT": server.Port(), "KUBERNETES_NODE_NAME": "node-1"}
	cfg, err := installcni.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.ServiceAccountDir, cfg.HostNetDir = saDir, netDir
	r, err := installcni.NewRefresher(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.Refresh(ctx)
	if err != nil {
		t.Fatalf("calico-node cannot get the CNI plugin its token with the manifest's RBAC: %v", err)
	}
	if tok.Fallback != "" {
		t.Errorf("fell back although the manifest has the account: %s", tok.Fallback)
	}
	kc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(netDir, installcni.DefaultKubeconfigName))
	if err != nil {
		t.Fatal(err)
	}
	who, err := kubernetes.NewForConfigOrDie(kc).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || who.Status.UserInfo.Username != "system:serviceaccount:kube-system:calico-cni-plugin" {
		t.Fatalf("CNI kubeconfig authenticates as %+v (%v)", who, err)
	}

	can := func(user string, ra authzv1.ResourceAttributes) bool {
		t.Helper()
		sar, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: "system:serviceaccount:kube-system:" + user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"},
			ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	mintFor := func(sa string) authzv1.ResourceAttributes {
		return authzv1.ResourceAttributes{Namespace: ns, Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: sa}
	}
	if can("calico-node", mintFor("calico-kube-controllers")) {
		t.Error("calico-node may mint calico-kube-controllers' tokens; only calico-cni-plugin's")
	}
	cal := func(verb, res string) authzv1.ResourceAttributes {
		return authzv1.ResourceAttributes{Verb: verb, Group: "projectcalico.org", Resource: res}
	}
	for _, ra := range []authzv1.ResourceAttributes{
		{Namespace: "default", Verb: "get", Resource: "pods"},
		{Namespace: "default", Verb: "patch", Resource: "pods", Subresource: "status"},
		{Verb: "get", Resource: "namespaces"},
		{Verb: "get", Resource: "nodes"},
		cal("create", "ipamblocks"), cal("update", "ipamblocks"), cal("delete", "ipamhandles"),
		cal("create", "blockaffinities"), cal("get", "clusterinformations"), cal("list", "ippools"),
		cal("list", "ipreservations"), cal("create", "ipamconfigurations"),
	} {
		if !can("calico-cni-plugin", ra) {
			t.Errorf("calico-cni-plugin may not %s %s/%s (%s): the plugin needs it", ra.Verb, ra.Resource, ra.Subresource, ra.Group)
		}
	}
	for _, ra := range []authzv1.ResourceAttributes{
		{Namespace: ns, Verb: "get", Resource: "secrets"},
		{Verb: "list", Resource: "pods"},
		mintFor("calico-cni-plugin"),
		cal("update", "felixconfigurations"),
	} {
		if can("calico-cni-plugin", ra) {
			t.Errorf("calico-cni-plugin may %s %s/%s (%s): more than the plugin needs", ra.Verb, ra.Resource, ra.Subresource, ra.Group)
		}
	}
}
