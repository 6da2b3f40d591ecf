package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
)

// pingTimeout bounds the reachability check made when opening a datastore,
// so a wrong endpoint fails fast with a clear message instead of hanging.
const pingTimeout = 5 * time.Second

// Open connects to the datastore cfg names and returns a client and a
// function that releases everything Open started:
//
//   - etcdv3: the external cluster at cfg.EtcdEndpoints (TLS files honoured).
//   - embedded: if <EmbeddedDir>/endpoint names a live server (calico-node's),
//     that server; otherwise an embedded etcd started in this process on
//     EmbeddedDir for as long as the client is open.
//   - kubernetes: the Kubernetes API server of the kubeconfig (KUBECONFIG,
//     spec.kubeconfig) or the in-cluster configuration; Calico's CRDs plus
//     the Calico views of Kubernetes objects (see KubeRESTConfig, k8s.KDD).
func Open(ctx context.Context, cfg *Config) (*Client, func() error, error) {
	switch cfg.DatastoreType {
	case DatastoreEtcdV3:
		if err := unsupportedEtcdSettings(cfg); err != nil {
			return nil, nil, err
		}
		be, err := connectEtcd(ctx, etcd.Config{
			Endpoints: cfg.Endpoints(), KeyFile: cfg.EtcdKeyFile, CertFile: cfg.EtcdCertFile, CACertFile: cfg.EtcdCACertFile,
			DialTimeout: pingTimeout,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%w (settings from %s)", err, cfg.Source)
		}
		c := New(be)
		return c, c.Close, nil
	case DatastoreEmbedded:
		return openEmbedded(ctx, cfg.EmbeddedDir)
	case DatastoreKubernetes:
		return openKubernetes(ctx, cfg)
	}
	return nil, nil, fmt.Errorf("datastore type %q is not valid; use etcdv3 or kubernetes", cfg.DatastoreType)
}

// openEmbedded reuses a running embedded server or starts one.
func openEmbedded(ctx context.Context, dir string) (*Client, func() error, error) {
	if ep, err := etcd.ReadEndpointFile(dir); err == nil {
		be, err := connectEtcd(ctx, etcd.Config{Endpoints: []string{ep}, DialTimeout: pingTimeout})
		if err == nil {
			c := New(be)
			return c, c.Close, nil
		}
		slog.Info("embedded datastore endpoint file is stale; starting a server here", "dir", dir, "endpoint", ep, "err", err)
	}
	emb, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir})
	if err != nil {
		return nil, nil, fmt.Errorf("start the embedded datastore in %s: %w (set %s to use another directory, or ETCD_ENDPOINTS for an external etcd)", dir, err, EnvEmbeddedDir)
	}
	be, err := connectEtcd(ctx, etcd.Config{Endpoints: emb.Endpoints(), DialTimeout: pingTimeout})
	if err != nil {
		emb.Close()
		return nil, nil, err
	}
	c := New(be)
	closer := func() error {
		err := c.Close()
		emb.Close()
		return err
	}
	return c, closer, nil
}

// connectEtcd connects and checks the cluster answers.
func connectEtcd(ctx context.Context, cfg etcd.Config) (*etcd.Backend, error) {
	be, err := etcd.New(cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := be.Ping(pctx); err != nil {
		be.Close()
		return nil, err
	}
	return be, nil
}

// unsupportedEtcdSettings refuses settings Tricolor does not implement yet
// rather than silently ignoring them.
func unsupportedEtcdSettings(cfg *Config) error {
	var bad []string
	for name, v := range map[string]string{
		"etcdUsername/ETCD_USERNAME": cfg.EtcdUsername, "etcdPassword/ETCD_PASSWORD": cfg.EtcdPassword,
		"etcdDiscoverySrv/ETCD_DISCOVERY_SRV": cfg.EtcdDiscoverySrv,
		"etcdKey":                             cfg.EtcdKey, "etcdCert": cfg.EtcdCert, "etcdCACert": cfg.EtcdCACert,
	} {
		if v != "" {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		return errors.New("etcd settings " + fmt.Sprint(bad) + " are not supported yet; use etcdEndpoints with etcdKeyFile/etcdCertFile/etcdCACertFile")
	}
	return nil
}
