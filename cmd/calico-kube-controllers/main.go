// Command calico-kube-controllers runs Tricolor's Kubernetes controllers
// (internal/controllers) with Calico's configuration:
//
//	calico-kube-controllers        run until SIGTERM (leader election on a
//	                               Lease; only the leader runs controllers)
//	calico-kube-controllers -l     liveness probe of a running instance; exit 0 or 1
//	calico-kube-controllers -r     readiness probe of a running instance; exit 0 or 1
//
// Configuration (Calico's precedence): defaults, then the
// KubeControllersConfiguration "default" (enabled controllers = sections
// present, each section's reconcilerPeriod, node.leakGracePeriod,
// node.syncLabels, node.hostEndpoint.autoCreate, healthChecks,
// prometheusMetricsPort), then the environment: ENABLED_CONTROLLERS
// (node,policy,namespace,serviceaccount,workloadendpoint), DATASTORE_TYPE
// (etcdv3 or kubernetes) and the datastore settings calicoctl reads
// (ETCD_ENDPOINTS, KUBECONFIG, …), LEAK_GRACE_PERIOD (0 disables IPAM GC),
// RECONCILER_PERIOD, PROMETHEUS_METRICS_PORT (/metrics, /liveness,
// /readiness), POD_NAME / POD_NAMESPACE (the Lease holder identity and
// namespace), LEADER_ELECTION_LEASE_NAME, LOG_LEVEL, HEALTH_ENABLED,
// SYNC_NODE_LABELS (etcd only), AUTO_HOST_ENDPOINTS. The resource is
// created with Calico's defaults when missing and watched: the leader
// writes status.runningConfig and status.environmentVars, and a change
// restarts the controllers inside the process (Calico restarts the
// process). The -l / -r probes use PROMETHEUS_METRICS_PORT (default 9094)
// only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/controllers"
	"github.com/tricolor-net/tricolor/internal/logging"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("calico-kube-controllers", flag.ContinueOnError)
	live := fs.Bool("l", false, "Check liveness of the running instance and exit")
	ready := fs.Bool("r", false, "Check readiness of the running instance and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// The environment alone is enough for the probes (and catches bad
	// values before connecting anywhere).
	cfg, err := controllers.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *live || *ready {
		path := controllers.PathLiveness
		if *ready {
			path = controllers.PathReadiness
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := controllers.Probe(ctx, "127.0.0.1:"+strconv.Itoa(cfg.MetricsPort), path); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	}
	logging.SetDefault(os.Getenv("LOG_LEVEL"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	dsCfg, err := client.LoadConfig("", os.Getenv)
	if err != nil {
		slog.Error("datastore configuration", "err", err)
		return 1
	}
	rc, err := client.KubeRESTConfig(dsCfg)
	if err != nil {
		slog.Error("kubernetes API configuration", "err", err)
		return 1
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		slog.Error("kubernetes client", "err", err)
		return 1
	}
	c, closeDS, err := client.Open(ctx, dsCfg)
	if err != nil {
		slog.Error("cannot connect to the datastore", "err", err)
		return 1
	}
	defer closeDS()
	// Follow the KubeControllersConfiguration "default" under the environment.
	cfg.Environment = os.Getenv
	cfg.Kubernetes = dsCfg.DatastoreType == client.DatastoreKubernetes
	if err := controllers.New(cfg, kube, c.Backend(), slog.Default()).Run(ctx); err != nil {
		slog.Error("calico-kube-controllers stopped", "err", err)
		return 1
	}
	slog.Info("calico-kube-controllers stopped (signal)")
	return 0
}
