package client

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
)

// Client-side rate limits of the Kubernetes API clients. client-go's
// defaults (5 requests/s, bursts of 10) make a syncer's initial list of a
// dozen kinds wait for seconds; the API server's own priority and fairness
// still protects it.
const (
	kubeClientQPS   = 50
	kubeClientBurst = 100
)

// KubeRESTConfig resolves the Kubernetes API connection of the kubernetes
// datastore the way Calico does: the kubeconfig file (spec.kubeconfig /
// KUBECONFIG) when set, with k8sAPIEndpoint, k8sCertFile, k8sKeyFile,
// k8sCAFile, k8sAPIToken, k8sInsecureSkipTLSVerify and k8sCurrentContext
// overriding what it says; without a kubeconfig, those settings alone; with
// none of them, the in-cluster configuration (the pod's service account).
// Client-side rate limits are raised to kubeClientQPS/kubeClientBurst.
func KubeRESTConfig(cfg *Config) (*rest.Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: cfg.Kubeconfig}
	ov := &clientcmd.ConfigOverrides{CurrentContext: cfg.K8sCurrentContext}
	ov.ClusterInfo.Server = cfg.K8sAPIEndpoint
	ov.ClusterInfo.CertificateAuthority = cfg.K8sCAFile
	ov.ClusterInfo.InsecureSkipTLSVerify = cfg.K8sInsecureSkipTLSVerify
	ov.AuthInfo = clientcmdapi.AuthInfo{ClientCertificate: cfg.K8sCertFile, ClientKey: cfg.K8sKeyFile, Token: cfg.K8sAPIToken}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, ov).ClientConfig()
	if err != nil {
		where := "the in-cluster configuration (no kubeconfig or k8sAPIEndpoint set)"
		if cfg.Kubeconfig != "" {
			where = "kubeconfig " + cfg.Kubeconfig
		} else if cfg.K8sAPIEndpoint != "" {
			where = "k8sAPIEndpoint " + cfg.K8sAPIEndpoint
		}
		return nil, fmt.Errorf("kubernetes datastore (settings from %s): %s: %w; set KUBECONFIG (or spec.kubeconfig in calicoctl.cfg) to a kubeconfig file, or run inside a pod",
			cfg.Source, where, err)
	}
	if rc.QPS == 0 {
		rc.QPS, rc.Burst = kubeClientQPS, kubeClientBurst
	}
	return rc, nil
}

// openKubernetes connects the kubernetes datastore: Calico's CRDs plus the
// views of Namespaces, ServiceAccounts, Pods, NetworkPolicies and Nodes
// (k8s.KDD), after checking the API server answers and serves the CRDs.
func openKubernetes(ctx context.Context, cfg *Config) (*Client, func() error, error) {
	rc, err := KubeRESTConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	be, err := k8s.NewKDD(rc)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := be.Ping(pctx); err != nil {
		return nil, nil, fmt.Errorf("kubernetes datastore at %s (settings from %s): %w", rc.Host, cfg.Source, err)
	}
	c := New(be)
	return c, c.Close, nil
}
