package client

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Datastore types. etcdv3 and kubernetes are Calico's values for
// DATASTORE_TYPE / spec.datastoreType; embedded is Tricolor's default when
// nothing is configured.
const (
	DatastoreEtcdV3     = "etcdv3"
	DatastoreKubernetes = "kubernetes"
	DatastoreEmbedded   = "embedded"
)

// Defaults, in one place.
const (
	// DefaultConfigPath is calicoctl's default config file.
	DefaultConfigPath = "/etc/calico/calicoctl.cfg"
	// DefaultEmbeddedDir is where the embedded etcd keeps its data.
	DefaultEmbeddedDir = "/var/lib/calico/etcd"
	// DefaultEtcdEndpoint is Calico's endpoint when etcdv3 is chosen without one.
	DefaultEtcdEndpoint = "http://127.0.0.1:2379"
	// EnvEmbeddedDir overrides DefaultEmbeddedDir.
	EnvEmbeddedDir = "TRICOLOR_EMBEDDED_ETCD_DIR"
	// KindCalicoAPIConfig is the config file's kind.
	KindCalicoAPIConfig = "CalicoAPIConfig"
)

// CalicoAPIConfig is Calico's client configuration file
// (apiVersion: projectcalico.org/v3, kind: CalicoAPIConfig).
type CalicoAPIConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CalicoAPIConfigSpec `json:"spec,omitempty"`
}

// CalicoAPIConfigSpec holds the datastore connection settings, with Calico's
// field names.
type CalicoAPIConfigSpec struct {
	// DatastoreType is etcdv3 or kubernetes (embedded when nothing is set).
	DatastoreType string `json:"datastoreType,omitempty"`
	EtcdConfig    `json:",inline"`
	KubeConfig    `json:",inline"`
}

// EtcdConfig is the etcdv3 part of the configuration.
type EtcdConfig struct {
	// EtcdEndpoints is a comma-separated list of client URLs.
	EtcdEndpoints    string `json:"etcdEndpoints,omitempty"`
	EtcdDiscoverySrv string `json:"etcdDiscoverySrv,omitempty"`
	EtcdUsername     string `json:"etcdUsername,omitempty"`
	EtcdPassword     string `json:"etcdPassword,omitempty"`
	EtcdKeyFile      string `json:"etcdKeyFile,omitempty"`
	EtcdCertFile     string `json:"etcdCertFile,omitempty"`
	EtcdCACertFile   string `json:"etcdCACertFile,omitempty"`
	// EtcdKey, EtcdCert and EtcdCACert are inline PEM alternatives to the files.
	EtcdKey    string `json:"etcdKey,omitempty"`
	EtcdCert   string `json:"etcdCert,omitempty"`
	EtcdCACert string `json:"etcdCACert,omitempty"`
}

// KubeConfig is the kubernetes part of the configuration.
type KubeConfig struct {
	Kubeconfig               string `json:"kubeconfig,omitempty"`
	K8sAPIEndpoint           string `json:"k8sAPIEndpoint,omitempty"`
	K8sKeyFile               string `json:"k8sKeyFile,omitempty"`
	K8sCertFile              string `json:"k8sCertFile,omitempty"`
	K8sCAFile                string `json:"k8sCAFile,omitempty"`
	K8sAPIToken              string `json:"k8sAPIToken,omitempty"`
	K8sInsecureSkipTLSVerify bool   `json:"k8sInsecureSkipTLSVerify,omitempty"`
	// K8sCurrentContext selects a kubeconfig context (calicoctl --context).
	K8sCurrentContext string `json:"k8sCurrentContext,omitempty"`
}

// Config is the resolved client configuration: what LoadConfig found plus
// Tricolor's embedded-datastore settings.
type Config struct {
	CalicoAPIConfigSpec
	// EmbeddedDir is the embedded etcd's data directory.
	EmbeddedDir string
	// Source says where the settings came from ("file /etc/...", "environment",
	// "defaults"), for messages.
	Source string
}

// Endpoints splits EtcdEndpoints into a list.
func (c *Config) Endpoints() []string {
	var out []string
	for _, e := range strings.Split(c.EtcdEndpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// envNames maps each setting to Calico's environment variable. Calico also
// honours a CALICO_-prefixed form of each, which wins when both are set.
var envNames = []struct {
	name string
	set  func(*CalicoAPIConfigSpec, string)
}{
	{"DATASTORE_TYPE", func(s *CalicoAPIConfigSpec, v string) { s.DatastoreType = v }},
	{"ETCD_ENDPOINTS", func(s *CalicoAPIConfigSpec, v string) { s.EtcdEndpoints = v }},
	{"ETCD_DISCOVERY_SRV", func(s *CalicoAPIConfigSpec, v string) { s.EtcdDiscoverySrv = v }},
	{"ETCD_USERNAME", func(s *CalicoAPIConfigSpec, v string) { s.EtcdUsername = v }},
	{"ETCD_PASSWORD", func(s *CalicoAPIConfigSpec, v string) { s.EtcdPassword = v }},
	{"ETCD_KEY_FILE", func(s *CalicoAPIConfigSpec, v string) { s.EtcdKeyFile = v }},
	{"ETCD_CERT_FILE", func(s *CalicoAPIConfigSpec, v string) { s.EtcdCertFile = v }},
	{"ETCD_CA_CERT_FILE", func(s *CalicoAPIConfigSpec, v string) { s.EtcdCACertFile = v }},
	{"KUBECONFIG", func(s *CalicoAPIConfigSpec, v string) { s.Kubeconfig = v }},
	{"K8S_API_ENDPOINT", func(s *CalicoAPIConfigSpec, v string) { s.K8sAPIEndpoint = v }},
	{"K8S_KEY_FILE", func(s *CalicoAPIConfigSpec, v string) { s.K8sKeyFile = v }},
	{"K8S_CERT_FILE", func(s *CalicoAPIConfigSpec, v string) { s.K8sCertFile = v }},
	{"K8S_CA_FILE", func(s *CalicoAPIConfigSpec, v string) { s.K8sCAFile = v }},
	{"K8S_API_TOKEN", func(s *CalicoAPIConfigSpec, v string) { s.K8sAPIToken = v }},
	{"K8S_INSECURE_SKIP_TLS_VERIFY", func(s *CalicoAPIConfigSpec, v string) { s.K8sInsecureSkipTLSVerify = v == "true" }},
	{"K8S_CURRENT_CONTEXT", func(s *CalicoAPIConfigSpec, v string) { s.K8sCurrentContext = v }},
}

// LoadConfig resolves the client configuration the way calicoctl does:
//
//  1. If the config file exists it is used alone (environment ignored).
//     A missing file is an error only when the path was given explicitly
//     (anything other than DefaultConfigPath).
//  2. Otherwise the environment (CALICO_X before X for each of Calico's names).
//  3. Datastore type: as configured; when unset, etcdv3 if etcd endpoints are
//     set, else the embedded datastore. etcdv3 without endpoints uses
//     DefaultEtcdEndpoint.
//
// getenv is os.Getenv in production; tests pass a map lookup.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if path == "" {
		path = DefaultConfigPath
	}
	cfg := &Config{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		spec, err := parseConfigFile(path, b)
		if err != nil {
			return nil, err
		}
		cfg.CalicoAPIConfigSpec, cfg.Source = *spec, "file "+path
	case errors.Is(err, fs.ErrNotExist) && path == DefaultConfigPath:
		cfg.Source = "environment"
		for _, e := range envNames {
			if v := getenv("CALICO_" + e.name); v != "" {
				e.set(&cfg.CalicoAPIConfigSpec, v)
			} else if v := getenv(e.name); v != "" {
				e.set(&cfg.CalicoAPIConfigSpec, v)
			}
		}
	default:
		return nil, fmt.Errorf("read config file %s: %w; fix the path given with --config, or omit it to use the environment", path, err)
	}
	cfg.EmbeddedDir = getenv(EnvEmbeddedDir)
	if cfg.EmbeddedDir == "" {
		cfg.EmbeddedDir = DefaultEmbeddedDir
	}
	switch strings.ToLower(cfg.DatastoreType) {
	case "":
		if cfg.EtcdEndpoints != "" {
			cfg.DatastoreType = DatastoreEtcdV3
		} else {
			cfg.DatastoreType = DatastoreEmbedded
		}
	case DatastoreEtcdV3, DatastoreKubernetes, DatastoreEmbedded:
		cfg.DatastoreType = strings.ToLower(cfg.DatastoreType)
	default:
		return nil, fmt.Errorf("datastore type %q (from %s) is not valid; use etcdv3 or kubernetes (DATASTORE_TYPE / spec.datastoreType)", cfg.DatastoreType, cfg.Source)
	}
	if cfg.DatastoreType == DatastoreEtcdV3 && cfg.EtcdEndpoints == "" {
		cfg.EtcdEndpoints = DefaultEtcdEndpoint
	}
	return cfg, nil
}

// parseConfigFile reads a CalicoAPIConfig document (YAML or JSON).
func parseConfigFile(path string, b []byte) (*CalicoAPIConfigSpec, error) {
	var c CalicoAPIConfig
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("config file %s: %v; expected apiVersion: %s, kind: %s, spec: {datastoreType, etcdEndpoints, ...}",
			path, err, v3.GroupVersionCurrent, KindCalicoAPIConfig)
	}
	if c.Kind != KindCalicoAPIConfig {
		return nil, fmt.Errorf("config file %s: kind %q is not %s; set kind: %s", path, c.Kind, KindCalicoAPIConfig, KindCalicoAPIConfig)
	}
	if c.APIVersion != v3.GroupVersionCurrent {
		return nil, fmt.Errorf("config file %s: apiVersion %q is not supported; set apiVersion: %s", path, c.APIVersion, v3.GroupVersionCurrent)
	}
	return &c.Spec, nil
}
