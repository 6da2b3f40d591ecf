package installcni

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// CNITokenLifetime is the lifetime asked for the CNI plugin's token
// (Calico's defaultCNITokenValiditySeconds). The API server may shorten
// it (--service-account-max-token-expiration); the refresher schedules
// from the expiry the server returns.
const CNITokenLifetime = 24 * time.Hour

// apiTimeout bounds each request to the API server, so an init container
// facing an unreachable server fails with a message instead of hanging.
const apiTimeout = 30 * time.Second

// Token is the credential written into the CNI plugin's kubeconfig.
type Token struct {
	// Value is the bearer token.
	Value string
	// Expires is when the token stops working; zero when unknown (a
	// legacy Secret token carries no expiry).
	Expires time.Time
	// Account names the identity ("system:serviceaccount:<ns>:<name>"),
	// or is empty when the pod's token does not say.
	Account string
	// Fallback is set, with the reason and the fix, when the pod's own
	// token was used because the CNI service account does not exist.
	Fallback string
}

// tokenGetter hands out the token for the CNI plugin's kubeconfig.
type tokenGetter interface {
	token(ctx context.Context) (Token, error)
}

var _ tokenGetter = (*TokenSource)(nil)

// TokenSource requests tokens for the CNI service account with calico-node's
// own credentials (the TokenRequest API, serviceaccounts/token), as
// Calico's install-cni and calico-node do.
type TokenSource struct {
	client       kubernetes.Interface
	namespace    string
	account      string
	podTokenFile string
}

// NewTokenSource connects with the pod's service account (cfg's
// ServiceAccountDir: token, ca.crt, namespace) to the API server at
// KUBERNETES_SERVICE_HOST/PORT. The CNI service account lives in the same
// namespace as calico-node.
func NewTokenSource(cfg Config) (*TokenSource, error) {
	rc, err := podRESTConfig(cfg)
	if err != nil {
		return nil, err
	}
	ns, err := os.ReadFile(filepath.Join(cfg.ServiceAccountDir, "namespace"))
	if err != nil {
		return nil, fmt.Errorf("CNI token: the pod's namespace: %w; mount the service account (automountServiceAccountToken must not be false)", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("CNI token: client for %s: %w", rc.Host, err)
	}
	account := cfg.CNIServiceAccount
	if account == "" {
		account = DefaultCNIServiceAccount
	}
	return &TokenSource{client: cs, namespace: strings.TrimSpace(string(ns)), account: account, podTokenFile: rc.BearerTokenFile}, nil
}

// podRESTConfig is the in-cluster configuration with cfg's paths. The token
// is read from its file by client-go (and re-read when the kubelet rotates
// it), not copied.
func podRESTConfig(cfg Config) (*rest.Config, error) {
	tokenFile := filepath.Join(cfg.ServiceAccountDir, "token")
	if _, err := os.Stat(tokenFile); err != nil {
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: service account token: %w; "+
			"run install-cni with a service account (automountServiceAccountToken must not be false)", err)
	}
	caFile := filepath.Join(cfg.ServiceAccountDir, "ca.crt")
	if _, err := os.Stat(caFile); err != nil {
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: %s is missing; mount the service account's CA", caFile)
	}
	return &rest.Config{
		Host:            serverURL(cfg),
		BearerTokenFile: tokenFile,
		TLSClientConfig: rest.TLSClientConfig{CAFile: caFile},
		Timeout:         apiTimeout,
		UserAgent:       "calico-node install-cni",
	}, nil
}

// token requests a token for the CNI service account. When the API says
// the account does not exist (manifests older than Calico v3.26 lack it),
// it falls back to the pod's own token and says so in Token.Fallback; any
// other failure is an error.
func (s *TokenSource) token(ctx context.Context) (Token, error) {
	lifetime := int64(CNITokenLifetime / time.Second)
	tr, err := s.client.CoreV1().ServiceAccounts(s.namespace).CreateToken(ctx, s.account,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &lifetime}}, metav1.CreateOptions{})
	switch {
	case err == nil:
		return Token{Value: tr.Status.Token, Expires: tr.Status.ExpirationTimestamp.Time,
			Account: "system:serviceaccount:" + s.namespace + ":" + s.account}, nil
	case apierrors.IsNotFound(err):
		tok, ferr := readPodToken(s.podTokenFile)
		if ferr != nil {
			return Token{}, fmt.Errorf("service account %s/%s does not exist and the pod's own token is unusable: %w", s.namespace, s.account, ferr)
		}
		tok.Fallback = fmt.Sprintf("service account %s/%s does not exist, so the CNI plugin gets calico-node's own token "+
			"(as before Calico v3.26); apply the current manifests/tricolor.yaml (ServiceAccount, ClusterRole and ClusterRoleBinding "+
			"calico-cni-plugin) or set CALICO_CNI_SERVICE_ACCOUNT to an account that exists", s.namespace, s.account)
		return tok, nil
	case apierrors.IsForbidden(err):
		return Token{}, fmt.Errorf("token for service account %s/%s: %w; calico-node's service account needs "+
			"create on serviceaccounts/token for %s (the calico-node ClusterRole of manifests/tricolor.yaml grants it)",
			s.namespace, s.account, err, s.account)
	default:
		return Token{}, fmt.Errorf("token for service account %s/%s (TokenRequest): %w", s.namespace, s.account, err)
	}
}

// readPodToken reads the pod's own token and, when it is a JWT, its expiry
// and subject.
func readPodToken(path string) (Token, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Token{}, err
	}
	tok := Token{Value: strings.TrimSpace(string(b))}
	if tok.Value == "" {
		return Token{}, fmt.Errorf("%s is empty", path)
	}
	if c, ok := jwtClaims(tok.Value); ok {
		tok.Account = c.Subject
		if c.Expiry > 0 {
			tok.Expires = time.Unix(c.Expiry, 0)
		}
	}
	return tok, nil
}

// claims are the JWT claims the refresher uses.
type claims struct {
	Subject string `json:"sub"`
	Expiry  int64  `json:"exp"`
}

// jwtClaims decodes a JWT's payload without verifying it (only the API
// server can; this only schedules the next refresh).
func jwtClaims(token string) (claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, false
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return claims{}, false
	}
	return c, true
}
