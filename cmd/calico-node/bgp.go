package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/tricolor-net/tricolor/internal/bgp"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/node"
	"github.com/tricolor-net/tricolor/internal/node/health"
)

// bgpHealthTimeout fails -bird-live when the BGP health loop (every 2s)
// has not reported for this long.
const bgpHealthTimeout = 30 * time.Second

// bgpComponent returns the BGP agent when CALICO_NETWORKING_BACKEND is
// bird (Calico's default) and nil for vxlan or none, which run no BGP.
// Its status socket is $TRICOLOR_RUN_DIR/bgp.sock (default
// /var/run/calico/bgp.sock), where `calicoctl node status` looks.
func bgpComponent(cfg *node.Config, backend datastore.Backend, agg *health.Aggregator) node.Component {
	if cfg.Backend != node.BackendBird {
		slog.Info("BGP not started", "CALICO_NETWORKING_BACKEND", cfg.Backend)
		return nil
	}
	return bgp.NewComponent(bgp.ComponentConfig{
		NodeName:   cfg.NodeName,
		Backend:    backend,
		Secrets:    bgpSecrets(cfg.Datastore, os.Getenv),
		Health:     agg.Register("bgp", health.GroupBGP, bgpHealthTimeout),
		SocketPath: bgp.StatusSocketPath(os.Getenv),
		Logger:     slog.Default(),
	})
}

// bgpSecrets returns the reader of BGP password Secrets (BGPPeer
// spec.password.secretKeyRef, nodeMeshPassword) when calico-node has a
// Kubernetes API: the kubernetes datastore, KUBECONFIG, or running in a
// pod. Secrets are read in calico-node's namespace (bgp.SecretNamespace).
// Without one it returns nil, and each peer that names a Secret is logged
// as a configuration problem saying so.
func bgpSecrets(ds *client.Config, getenv func(string) string) bgp.SecretGetter {
	if ds == nil || (ds.DatastoreType != client.DatastoreKubernetes && ds.Kubeconfig == "" && getenv("KUBERNETES_SERVICE_HOST") == "") {
		slog.Info("BGP password Secrets cannot be read: no Kubernetes API configured (not the kubernetes datastore, KUBECONFIG unset, not in a pod)")
		return nil
	}
	rc, err := client.KubeRESTConfig(ds)
	if err != nil {
		slog.Warn("BGP password Secrets cannot be read", "err", err)
		return nil
	}
	ns := bgp.SecretNamespace(getenv)
	get, err := bgp.KubeSecretGetter(rc, ns)
	if err != nil {
		slog.Warn("BGP password Secrets cannot be read", "err", err)
		return nil
	}
	slog.Info("BGP password Secrets are read from the Kubernetes API", "host", rc.Host, "namespace", ns)
	return get
}
