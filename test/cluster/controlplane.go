package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tricolor-net/tricolor/internal/lab"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The control plane's addresses inside its namespace.
const (
	apiPort    = 6443
	etcdClient = "http://127.0.0.1:2379"
	// ServiceCIDR is the cluster's service range (no kube-proxy runs: the
	// NetworkPolicy tests here address pods directly).
	ServiceCIDR = "10.96.0.0/16"
)

// secrets are the control plane's credentials: tokens by user, the
// service-account key pair (sa.key, sa.pub) in dir.
type secrets struct {
	dir    string
	tokens map[string]string
}

// newToken is a random bearer token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeSecrets writes the static token file (an admin in system:masters
// and one identity per node, system:node:<name> in system:nodes, as the
// Node authorizer expects) and the service-account keys.
func writeSecrets(dir string, nodes []string) (*secrets, error) {
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return nil, err
	}
	if err := testutil.WriteServiceAccountKeys(dir); err != nil {
		return nil, err
	}
	s := &secrets{dir: dir, tokens: map[string]string{"admin": newToken()}}
	lines := []string{fmt.Sprintf(`%s,cluster-admin,cluster-admin,"system:masters"`, s.tokens["admin"])}
	for _, n := range nodes {
		s.tokens[n] = newToken()
		lines = append(lines, fmt.Sprintf(`%s,system:node:%s,node-%s,"system:nodes"`, s.tokens[n], n, n))
	}
	return s, os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// caFile is the API server's self-signed serving certificate (--cert-dir),
// which clients trust directly.
func (s *secrets) caFile() string { return filepath.Join(s.dir, "certs", "apiserver.crt") }

// apiServerArgs is a production-like kube-apiserver: Node and RBAC
// authorization, default admission plugins (controllers run), the
// service-account token machinery, kubelets reached by InternalIP.
func apiServerArgs(s *secrets, advertise string) []string {
	return []string{
		"--etcd-servers=" + etcdClient,
		"--bind-address=0.0.0.0",
		"--advertise-address=" + advertise,
		fmt.Sprintf("--secure-port=%d", apiPort),
		"--cert-dir=" + filepath.Join(s.dir, "certs"),
		"--token-auth-file=" + filepath.Join(s.dir, "tokens.csv"),
		"--service-account-key-file=" + filepath.Join(s.dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(s.dir, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--api-audiences=https://kubernetes.default.svc.cluster.local",
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--allow-privileged=true",
		"--kubelet-preferred-address-types=InternalIP",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	}
}

// kubeconfig writes a token kubeconfig for server into path.
func (s *secrets) kubeconfig(path, server, user string) error {
	ca, err := os.ReadFile(s.caFile())
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["tricolor"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: s.tokens[user]}
	cfg.Contexts["tricolor"] = &clientcmdapi.Context{Cluster: "tricolor", AuthInfo: user}
	cfg.CurrentContext = "tricolor"
	return clientcmd.WriteToFile(*cfg, path)
}

// adminConfig is a client configuration for the test process (in the root
// namespace): it dials the API server inside the control-plane namespace,
// so nothing is added to the root namespace.
func (s *secrets) adminConfig(cpNetns, server string) *rest.Config {
	return &rest.Config{
		Host:            server,
		BearerToken:     s.tokens["admin"],
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.caFile()},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return lab.DialIn(ctx, cpNetns, network, addr)
		},
		QPS: 200, Burst: 400, UserAgent: "tricolor-cluster-harness",
		Timeout: 30 * time.Second,
	}
}
