package main

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestBGPSecrets_NoKubernetesAPIGivesNone(t *testing.T) {
	env := func(string) string { return "" }
	ds := &client.Config{Source: "environment"}
	ds.DatastoreType = client.DatastoreEtcdV3
	if bgpSecrets(ds, env) != nil {
		t.Error("etcd datastore, no KUBECONFIG, not in a pod: want no secret reader")
	}
}

// TestBGPSecrets_ReadsFromTheKubeconfigsAPIServer: with the kubernetes
// datastore, calico-node reads BGP password Secrets in its NAMESPACE.
func TestBGPSecrets_ReadsFromTheKubeconfigsAPIServer(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bgp-secrets", Namespace: "kube-system"},
		StringData: map[string]string{"peer": "s3cret"}}
	if _, err := cs.CoreV1().Secrets("kube-system").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ds := &client.Config{Source: "environment"}
	ds.DatastoreType, ds.Kubeconfig = client.DatastoreKubernetes, testutil.WriteKubeconfig(t, rc)
	get := bgpSecrets(ds, func(k string) string {
		if k == "NAMESPACE" {
			return "kube-system"
		}
		return ""
	})
	if get == nil {
		t.Fatal("no secret reader with the kubernetes datastore")
	}
	if v, err := get("bgp-secrets", "peer"); err != nil || v != "s3cret" {
		t.Errorf("get: %q, %v", v, err)
	}
}
