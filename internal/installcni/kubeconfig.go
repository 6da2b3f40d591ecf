package installcni

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

type kubeconfig struct {
	path  string
	token string
}

// writeKubeconfig writes the CNI plugin's kubeconfig: the API server from
// KUBERNETES_SERVICE_HOST/PORT, the pod's service-account token and CA.
// The token is embedded (as Calico does), so the file is 0600.
func writeKubeconfig(cfg Config) (*kubeconfig, error) {
	tokenPath := filepath.Join(cfg.ServiceAccountDir, "token")
	tok, err := os.ReadFile(tokenPath)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: service account token: %w; "+
			"run install-cni with a service account (automountServiceAccountToken must not be false)", err)
	}
	token := strings.TrimSpace(string(tok))
	if token == "" {
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: %s is empty", tokenPath)
	}
	cluster := &clientcmdapi.Cluster{Server: serverURL(cfg)}
	ca, err := os.ReadFile(filepath.Join(cfg.ServiceAccountDir, "ca.crt"))
	switch {
	case err == nil:
		cluster.CertificateAuthorityData = ca
	case os.IsNotExist(err):
		// No CA mounted: the plugin would not trust the API server.
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: %s/ca.crt is missing; mount the service account's CA", cfg.ServiceAccountDir)
	default:
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: %w", err)
	}
	c := clientcmdapi.NewConfig()
	c.Clusters["local"] = cluster
	c.AuthInfos["calico"] = &clientcmdapi.AuthInfo{Token: token}
	c.Contexts["calico-context"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "calico"}
	c.CurrentContext = "calico-context"
	data, err := clientcmd.Write(*c)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig for the CNI plugin: %w", err)
	}
	path := filepath.Join(cfg.HostNetDir, DefaultKubeconfigName)
	if err := writeAtomic(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write kubeconfig for the CNI plugin: %w", err)
	}
	return &kubeconfig{path: path, token: token}, nil
}

// serverURL joins protocol, host and port; IPv6 hosts get brackets.
func serverURL(cfg Config) string {
	hostport := cfg.ServiceHost
	if cfg.ServicePort != "" {
		hostport = net.JoinHostPort(cfg.ServiceHost, cfg.ServicePort)
	} else if strings.Contains(hostport, ":") {
		hostport = "[" + hostport + "]"
	}
	return cfg.ServiceProtocol + "://" + hostport
}
