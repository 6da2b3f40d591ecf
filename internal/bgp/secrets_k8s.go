package bgp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultSecretNamespace is where BGP password Secrets are read when
// calico-node cannot tell its own namespace (the manifest install's).
const DefaultSecretNamespace = "kube-system"

// serviceAccountNamespaceFile is where a pod finds its own namespace.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// SecretNamespace is the namespace BGPPeer secretKeyRefs are resolved in:
// calico-node's own, as in Calico (calico-system for an operator install,
// kube-system for the manifests). It is $NAMESPACE when set, else the
// pod's service-account namespace, else kube-system.
func SecretNamespace(getenv func(string) string) string {
	if ns := strings.TrimSpace(getenv("NAMESPACE")); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespaceFile); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	return DefaultSecretNamespace
}

// secretReadTimeout bounds one Secret read (Compute runs on every change).
const secretReadTimeout = 5 * time.Second

// KubeSecretGetter returns a SecretGetter reading Secrets in namespace from
// the Kubernetes API server of cfg. Every call is a fresh GET, so a changed
// password is used at the next apply; errors name the Secret, the key and
// the fix (create it, add the key, or grant calico-node `get` on Secrets in
// that namespace).
func KubeSecretGetter(cfg *rest.Config, namespace string) (SecretGetter, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("BGP password secrets: Kubernetes client for %s: %w", cfg.Host, err)
	}
	return func(name, key string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), secretReadTimeout)
		defer cancel()
		s, err := cs.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return "", fmt.Errorf("Secret %s/%s not found; create it in calico-node's namespace %q (set NAMESPACE to read another)", namespace, name, namespace)
		case apierrors.IsForbidden(err):
			return "", fmt.Errorf("reading Secret %s/%s is forbidden; grant calico-node's service account get on secrets in namespace %q: %w", namespace, name, namespace, err)
		case err != nil:
			return "", fmt.Errorf("read Secret %s/%s: %w", namespace, name, err)
		}
		v, ok := s.Data[key]
		if !ok {
			return "", fmt.Errorf("Secret %s/%s has no key %q; add it or fix the BGPPeer's secretKeyRef.key", namespace, name, key)
		}
		return string(v), nil
	}, nil
}
