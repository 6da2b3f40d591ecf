package testutil

import (
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestStartKubeAPIServer_AuthenticatesAndServesCRDs checks the harness gives
// a real, secured API server: CRDs served, the admin token accepted, other
// tokens refused, service-account tokens signed with the generated key and
// accepted back, and data kept across a restart.
func TestStartKubeAPIServer_AuthenticatesAndServesCRDs(t *testing.T) {
	srv := StartKubeAPIServerProcess(t, KubeAPIServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(srv.Config)

	pools := schema.GroupVersionResource{Group: "projectcalico.org", Version: "v3", Resource: "ippools"}
	if _, err := dynamic.NewForConfigOrDie(srv.Config).Resource(pools).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list ippools.projectcalico.org: %v", err)
	}

	bad := rest.CopyConfig(srv.Config)
	bad.BearerToken = "wrong"
	if _, err := kubernetes.NewForConfigOrDie(bad).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("wrong token: err = %v; want Unauthorized", err)
	}

	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("issue a service-account token: %v", err)
	}
	sa := rest.CopyConfig(srv.Config)
	sa.BearerToken = tr.Status.Token
	review, err := kubernetes.NewForConfigOrDie(sa).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || review.Status.UserInfo.Username != "system:serviceaccount:default:robot" {
		t.Fatalf("service-account token not accepted: %v %+v", err, review)
	}

	start := time.Now()
	srv.Stop()
	t.Logf("stop %s", time.Since(start))
	srv.Start()
	t.Logf("restart %s", time.Since(start))
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "robot", metav1.GetOptions{}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
