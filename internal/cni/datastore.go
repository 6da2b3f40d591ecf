package cni

import (
	"context"
	"fmt"
	"strings"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
)

// clientConfig resolves the datastore settings as Calico's plugin does:
// the environment (DATASTORE_TYPE, ETCD_ENDPOINTS, ...) overridden by the
// network config's datastore_type / etcd_* fields. With nothing set the
// embedded datastore run by calico-node on this host is used.
func (c *NetConf) clientConfig(getenv func(string) string) (*client.Config, error) {
	overrides := map[string]string{
		"DATASTORE_TYPE":    c.DatastoreType,
		"ETCD_ENDPOINTS":    c.EtcdEndpoints,
		"ETCD_KEY_FILE":     c.EtcdKeyFile,
		"ETCD_CERT_FILE":    c.EtcdCertFile,
		"ETCD_CA_CERT_FILE": c.EtcdCACertFile,
	}
	if overrides["ETCD_ENDPOINTS"] == "" && c.EtcdAuthority != "" {
		scheme := c.EtcdScheme
		if scheme == "" {
			scheme = "http"
		}
		overrides["ETCD_ENDPOINTS"] = scheme + "://" + c.EtcdAuthority
	}
	get := func(k string) string {
		if v := overrides[k]; v != "" {
			return v
		}
		if v := getenv("CALICO_" + k); v != "" {
			return v
		}
		return getenv(k)
	}
	cfg := &client.Config{Source: "network config " + c.Name + " and environment"}
	cfg.DatastoreType = strings.ToLower(get("DATASTORE_TYPE"))
	cfg.EtcdEndpoints = get("ETCD_ENDPOINTS")
	cfg.EtcdKeyFile, cfg.EtcdCertFile, cfg.EtcdCACertFile = get("ETCD_KEY_FILE"), get("ETCD_CERT_FILE"), get("ETCD_CA_CERT_FILE")
	cfg.EmbeddedDir = getenv(client.EnvEmbeddedDir)
	if cfg.EmbeddedDir == "" {
		cfg.EmbeddedDir = client.DefaultEmbeddedDir
	}
	switch cfg.DatastoreType {
	case "":
		cfg.DatastoreType = client.DatastoreEmbedded
		if cfg.EtcdEndpoints != "" {
			cfg.DatastoreType = client.DatastoreEtcdV3
		}
	case client.DatastoreEtcdV3, client.DatastoreEmbedded:
	case client.DatastoreKubernetes:
		cfg.Kubeconfig = c.Kubernetes.Kubeconfig
		if cfg.Kubeconfig == "" {
			cfg.Kubeconfig = getenv("KUBECONFIG")
		}
	default:
		return nil, fmt.Errorf("datastore type %q is not supported; use etcdv3 with etcd_endpoints, or kubernetes with kubernetes.kubeconfig", cfg.DatastoreType)
	}
	if cfg.DatastoreType == client.DatastoreEtcdV3 && cfg.EtcdEndpoints == "" {
		cfg.EtcdEndpoints = client.DefaultEtcdEndpoint
	}
	return cfg, nil
}

// openClient connects to the datastore. The embedded datastore is only
// ever used when calico-node runs it: a CNI plugin lives for one command
// and must not start a server of its own. In Kubernetes datastore mode it
// also returns the Kubernetes API for the pod (nil otherwise).
func openClient(ctx context.Context, conf *NetConf, getenv func(string) string) (*client.Client, *kubeAPI, func() error, error) {
	cfg, err := conf.clientConfig(getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.DatastoreType == client.DatastoreKubernetes {
		return openKubernetes(conf, cfg.Kubeconfig)
	}
	if cfg.DatastoreType == client.DatastoreEmbedded {
		ep, err := etcd.ReadEndpointFile(cfg.EmbeddedDir)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("datastore: %w (or set etcd_endpoints in the network config)", err)
		}
		cfg.DatastoreType, cfg.EtcdEndpoints, cfg.Source = client.DatastoreEtcdV3, ep, "embedded endpoint file in "+cfg.EmbeddedDir
	}
	c, closer, err := client.Open(ctx, cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datastore: %w", err)
	}
	return c, nil, closer, nil
}

// openKubernetes is the Kubernetes datastore: Calico resources (IPAM
// blocks, handles, affinities, pools) as custom resources through the
// kubeconfig, and the core API for the pod itself.
func openKubernetes(conf *NetConf, kubeconfig string) (*client.Client, *kubeAPI, func() error, error) {
	kc := *conf
	kc.Kubernetes.Kubeconfig = kubeconfig
	rc, err := restConfigFor(&kc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datastore: %w", err)
	}
	be, err := k8s.New(rc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datastore: %w", err)
	}
	kube, err := newKubeAPI(rc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("datastore: %w", err)
	}
	c := client.New(be)
	return c, kube, c.Close, nil
}
