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

// writeKubeconfig writes the CNI plugin's kubeconfig: the API server from
// KUBERNETES_SERVICE_HOST/PORT, the pod's CA and token (the CNI service
// account's, see TokenSource). The token is embedded (as Calico does), so
// the file is 0600; it is replaced by a rename, so the plugin, run by the
// kubelet at any moment, reads either the old or the new file whole.
func writeKubeconfig(cfg Config, token string) (string, error) {
	if token == "" {
		return "", fmt.Errorf("kubeconfig for the CNI plugin: empty token")
	}
	cluster := &clientcmdapi.Cluster{Server: serverURL(cfg)}
	ca, err := os.ReadFile(filepath.Join(cfg.ServiceAccountDir, "ca.crt"))
	switch {
	case err == nil:
		cluster.CertificateAuthorityData = ca
	case os.IsNotExist(err):
		// No CA mounted: the plugin would not trust the API server.
		return "", fmt.Errorf("kubeconfig for the CNI plugin: %s/ca.crt is missing; mount the service account's CA", cfg.ServiceAccountDir)
	default:
		return "", fmt.Errorf("kubeconfig for the CNI plugin: %w", err)
	}
	c := clientcmdapi.NewConfig()
	c.Clusters["local"] = cluster
	c.AuthInfos["calico"] = &clientcmdapi.AuthInfo{Token: token}
	c.Contexts["calico-context"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "calico"}
	c.CurrentContext = "calico-context"
	data, err := clientcmd.Write(*c)
	if err != nil {
		return "", fmt.Errorf("kubeconfig for the CNI plugin: %w", err)
	}
	path := filepath.Join(cfg.HostNetDir, DefaultKubeconfigName)
	if err := writeAtomic(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig for the CNI plugin: %w; the host's %s must be mounted read-write at %s",
			err, cfg.CNINetDir, cfg.HostNetDir)
	}
	return path, nil
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
