package installcni

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// placeholder matches what is left of __UPPER_CASE__ markers after
// substitution, to name the ones nobody fills.
var placeholder = regexp.MustCompile(`__[A-Z0-9_]+__`)

// Render fills the template's placeholders (Calico's names) and checks that
// the result is a CNI config: JSON with a name, and a plugins list when
// the file is a .conflist. token fills __SERVICEACCOUNT_TOKEN__.
func Render(cfg Config, token string) (string, error) {
	kubeconfig := filepath.Join(cfg.CNINetDir, DefaultKubeconfigName)
	r := strings.NewReplacer(
		"__KUBECONFIG_FILEPATH__", kubeconfig,
		"__KUBECONFIG_FILENAME__", DefaultKubeconfigName,
		"__CNI_MTU__", strconv.Itoa(cfg.MTU),
		"__KUBERNETES_NODE_NAME__", cfg.NodeName,
		"__KUBERNETES_SERVICE_HOST__", cfg.ServiceHost,
		"__KUBERNETES_SERVICE_PORT__", cfg.ServicePort,
		"__SERVICEACCOUNT_TOKEN__", token,
		"__DATASTORE_TYPE__", cfg.DatastoreType,
		"__ETCD_ENDPOINTS__", cfg.EtcdEndpoints,
		"__ETCD_DISCOVERY_SRV__", cfg.EtcdDiscoverySrv,
		"__ETCD_KEY_FILE__", cfg.EtcdKeyFile,
		"__ETCD_CERT_FILE__", cfg.EtcdCertFile,
		"__ETCD_CA_CERT_FILE__", cfg.EtcdCACertFile,
		"__LOG_LEVEL__", cfg.LogLevel,
	)
	out := r.Replace(cfg.NetworkConfig)
	if left := placeholder.FindAllString(out, -1); len(left) > 0 {
		return "", fmt.Errorf("CNI_NETWORK_CONFIG: unknown placeholder(s) %s; the known ones are __KUBECONFIG_FILEPATH__, "+
			"__CNI_MTU__, __KUBERNETES_NODE_NAME__, __KUBERNETES_SERVICE_HOST__, __KUBERNETES_SERVICE_PORT__, "+
			"__SERVICEACCOUNT_TOKEN__, __DATASTORE_TYPE__, __ETCD_*__ and __LOG_LEVEL__", strings.Join(dedupe(left), ", "))
	}
	var doc struct {
		Name       string            `json:"name"`
		CNIVersion string            `json:"cniVersion"`
		Plugins    []json.RawMessage `json:"plugins"`
		Type       string            `json:"type"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return "", fmt.Errorf("CNI_NETWORK_CONFIG is not valid JSON after substitution: %v; check the template's quoting (numbers such as __CNI_MTU__ go unquoted)", err)
	}
	if doc.Name == "" {
		return "", fmt.Errorf("CNI_NETWORK_CONFIG has no \"name\"; add \"name\": \"k8s-pod-network\"")
	}
	if strings.HasSuffix(cfg.ConfName, ".conflist") && len(doc.Plugins) == 0 {
		return "", fmt.Errorf("CNI_NETWORK_CONFIG has no \"plugins\" list but CNI_CONF_NAME %q is a .conflist; "+
			"wrap the plugin in \"plugins\": [...] or name the file .conf", cfg.ConfName)
	}
	return out, nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
