package installcni

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults, in one place (Calico's values).
const (
	DefaultConfName          = "10-calico.conflist"
	DefaultCNINetDir         = "/etc/cni/net.d"
	DefaultMTU               = 1500
	DefaultKubeconfigName    = "calico-kubeconfig"
	DefaultSourceBinDir      = "/opt/cni/bin"
	DefaultHostBinDir        = "/host/opt/cni/bin"
	DefaultSecondaryBinDir   = "/host/secondary-bin-dir"
	DefaultHostNetDir        = "/host/etc/cni/net.d"
	DefaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
	// DefaultCNIServiceAccount is the service account whose token the CNI
	// plugin's kubeconfig carries (Calico v3.26+).
	DefaultCNIServiceAccount = "calico-cni-plugin"
)

// Config says what to install where. Env fields carry Calico's variable
// names; path fields describe the container's mounts.
type Config struct {
	// ConfName is the conflist's file name (CNI_CONF_NAME).
	ConfName string
	// CNINetDir is the CNI config directory as the host sees it
	// (CNI_NET_DIR); paths written into the conflist point there.
	CNINetDir string
	// NetworkConfig is the conflist template (CNI_NETWORK_CONFIG, or the
	// contents of CNI_NETWORK_CONFIG_FILE).
	NetworkConfig string
	// MTU fills __CNI_MTU__ (CNI_MTU; 0 makes the plugin use the MTU
	// calico-node detected).
	MTU int
	// NodeName fills __KUBERNETES_NODE_NAME__ (KUBERNETES_NODE_NAME, else
	// the host name).
	NodeName string
	// ServiceHost, ServicePort and ServiceProtocol locate the API server
	// for the kubeconfig (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT,
	// KUBERNETES_SERVICE_PROTOCOL, default https). No host: no kubeconfig
	// is written (etcd mode outside Kubernetes).
	ServiceHost, ServicePort, ServiceProtocol string
	// SkipBinaries are binaries not copied (SKIP_CNI_BINARIES, comma list).
	SkipBinaries []string
	// UpdateBinaries overwrites binaries already on the host
	// (UPDATE_CNI_BINARIES, default true).
	UpdateBinaries bool
	// CNIServiceAccount is the service account, in calico-node's own
	// namespace, whose token the kubeconfig carries
	// (CALICO_CNI_SERVICE_ACCOUNT, default calico-cni-plugin).
	CNIServiceAccount string
	// TokenRefreshInterval, when set, replaces the refresh period derived
	// from the token's expiry (CNI_TOKEN_REFRESH_INTERVAL, a Go duration).
	TokenRefreshInterval time.Duration
	// Placeholder values taken as they are from the environment:
	// DATASTORE_TYPE, ETCD_ENDPOINTS, ETCD_DISCOVERY_SRV, ETCD_KEY_FILE,
	// ETCD_CERT_FILE, ETCD_CA_CERT_FILE, LOG_LEVEL.
	DatastoreType, EtcdEndpoints, EtcdDiscoverySrv, EtcdKeyFile, EtcdCertFile, EtcdCACertFile, LogLevel string

	// SourceBinDir holds the binaries to install (in the image).
	SourceBinDir string
	// HostBinDirs receive the binaries; a directory that does not exist is
	// skipped unless it is the first (Calico's secondary bin dir is optional).
	HostBinDirs []string
	// HostNetDir is CNINetDir as mounted into the container.
	HostNetDir string
	// ServiceAccountDir holds the pod's token, ca.crt and namespace (the
	// service account calico-node runs as).
	ServiceAccountDir string
}

// FromEnv reads the configuration from getenv with Calico's names and the
// default container paths.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		ConfName:          or(getenv("CNI_CONF_NAME"), DefaultConfName),
		CNINetDir:         or(getenv("CNI_NET_DIR"), DefaultCNINetDir),
		NetworkConfig:     getenv("CNI_NETWORK_CONFIG"),
		MTU:               DefaultMTU,
		NodeName:          getenv("KUBERNETES_NODE_NAME"),
		ServiceHost:       getenv("KUBERNETES_SERVICE_HOST"),
		ServicePort:       getenv("KUBERNETES_SERVICE_PORT"),
		ServiceProtocol:   or(getenv("KUBERNETES_SERVICE_PROTOCOL"), "https"),
		UpdateBinaries:    true,
		CNIServiceAccount: or(getenv("CALICO_CNI_SERVICE_ACCOUNT"), DefaultCNIServiceAccount),
		DatastoreType:     or(getenv("DATASTORE_TYPE"), "kubernetes"),
		EtcdEndpoints:     getenv("ETCD_ENDPOINTS"),
		EtcdDiscoverySrv:  getenv("ETCD_DISCOVERY_SRV"),
		EtcdKeyFile:       getenv("ETCD_KEY_FILE"),
		EtcdCertFile:      getenv("ETCD_CERT_FILE"),
		EtcdCACertFile:    getenv("ETCD_CA_CERT_FILE"),
		LogLevel:          or(getenv("LOG_LEVEL"), "info"),
		SourceBinDir:      DefaultSourceBinDir,
		HostBinDirs:       []string{DefaultHostBinDir, DefaultSecondaryBinDir},
		HostNetDir:        DefaultHostNetDir,
		ServiceAccountDir: DefaultServiceAccountDir,
	}
	if f := getenv("CNI_NETWORK_CONFIG_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("CNI_NETWORK_CONFIG_FILE: %w; mount the template there or set CNI_NETWORK_CONFIG instead", err)
		}
		c.NetworkConfig = string(b)
	}
	if s := getenv("CNI_MTU"); s != "" {
		mtu, err := strconv.Atoi(s)
		if err != nil || (mtu != 0 && (mtu < 68 || mtu > 65535)) {
			return c, fmt.Errorf("CNI_MTU %q is not an MTU; set 68-65535, or 0 to let the plugin read the MTU calico-node detected (/var/lib/calico/mtu; the calico-config ConfigMap's veth_mtu)", s)
		}
		c.MTU = mtu
	}
	if s := getenv("UPDATE_CNI_BINARIES"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("UPDATE_CNI_BINARIES %q is not a boolean; use true or false", s)
		}
		c.UpdateBinaries = b
	}
	if s := getenv("CNI_TOKEN_REFRESH_INTERVAL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("CNI_TOKEN_REFRESH_INTERVAL %q is not a positive duration; use e.g. 1h, or unset it to refresh at a quarter to a half of the token's remaining lifetime", s)
		}
		c.TokenRefreshInterval = d
	}
	for _, s := range strings.Split(getenv("SKIP_CNI_BINARIES"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.SkipBinaries = append(c.SkipBinaries, s)
		}
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("KUBERNETES_NODE_NAME is not set and the host name is unknown (%v); set KUBERNETES_NODE_NAME from spec.nodeName", err)
		}
		c.NodeName = strings.ToLower(strings.TrimSpace(h))
	}
	return c, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
