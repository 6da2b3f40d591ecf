package felix

import (
	"log/slog"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/node/health"
)

// Defaults, in one place.
const (
	// DefaultApplyThrottle is the minimum gap between two dataplane
	// applies while updates keep arriving; an idle loop applies at once.
	DefaultApplyThrottle = 100 * time.Millisecond
	// DefaultRefreshInterval is Felix's IptablesRefreshInterval default:
	// how often the kernel table is re-read and drift repaired.
	DefaultRefreshInterval = 90 * time.Second
	// DefaultHealthTimeout is how stale the loop's last report may be
	// before the probes call Felix not live (a hung loop).
	DefaultHealthTimeout = 90 * time.Second
	// DefaultMetricsPort is Felix's PrometheusMetricsPort default.
	DefaultMetricsPort = 9091
	// DefaultMetricsHost is where metrics listen when neither the
	// FelixConfiguration nor FELIX_PROMETHEUSMETRICSHOST names a host.
	// Calico listens on every interface; we default to loopback so a
	// metrics port is never exposed by accident (set the host to 0.0.0.0
	// for Calico's behaviour).
	DefaultMetricsHost = "127.0.0.1"
	// HealthName is the reporter name Felix registers in GroupFelix.
	HealthName = "felix"
	// retryBackoff is the wait after a failed apply before trying again.
	retryBackoff = time.Second
)

// Config configures a Felix. Zero values take the defaults above.
type Config struct {
	// NodeName is this node's name (required): only its endpoints are
	// programmed.
	NodeName string
	// Backend is the datastore the syncer watches (required).
	Backend datastore.Backend
	// NFT drives the "inet calico" table; nil opens the real one through
	// the nft binary (dataplane.NewNFTables). Tests pass knftables.NewFake.
	NFT knftables.Interface
	// LocalBlockBlackholes makes Felix own the blackhole routes for this
	// node's affine IPAM blocks (proto 80), as Calico's Felix does when no
	// BGP agent runs: calico-node sets it for CALICO_NETWORKING_BACKEND
	// vxlan or none. Leave it false when the BGP agent runs; it installs
	// them with proto bird. Only used with the kernel dataplane (NFT nil).
	LocalBlockBlackholes bool
	// Health receives Felix's live/ready reports (GroupFelix); nil: none.
	Health *health.Aggregator
	// ApplyEnv overlays the FELIX_* environment on the effective
	// FelixConfiguration (Calico's precedence: env over "node.<name>" over
	// "default"); calico-node passes node.Config.Felix.Apply. Nil: none.
	ApplyEnv func(*v3.FelixConfigurationSpec) error
	// ApplyThrottle is the minimum gap between applies (DefaultApplyThrottle).
	ApplyThrottle time.Duration
	// HealthTimeout is the staleness after which Felix is not live
	// (DefaultHealthTimeout).
	HealthTimeout time.Duration
	// MetricsHost is the metrics host when the configuration sets none
	// (DefaultMetricsHost).
	MetricsHost string
	// Log receives the loop's logs; slog.Default() if nil.
	Log *slog.Logger
}

// SyncKinds are the resource kinds the calculation graph consumes, in the
// order the syncer lists them.
var SyncKinds = []string{
	v3.KindFelixConfiguration, v3.KindNode, v3.KindIPPool, v3.KindIPAMBlock,
	v3.KindTier, v3.KindProfile, v3.KindGlobalNetworkSet, v3.KindNetworkSet,
	v3.KindGlobalNetworkPolicy, v3.KindNetworkPolicy,
	v3.KindHostEndpoint, v3.KindWorkloadEndpoint,
}

// syncOptions lists every SyncKinds kind in full.
func syncOptions() []datastore.ListOptions {
	out := make([]datastore.ListOptions, len(SyncKinds))
	for i, k := range SyncKinds {
		out[i] = datastore.ListOptions{Kind: k}
	}
	return out
}

func (c *Config) defaults() {
	if c.ApplyThrottle <= 0 {
		c.ApplyThrottle = DefaultApplyThrottle
	}
	if c.HealthTimeout <= 0 {
		c.HealthTimeout = DefaultHealthTimeout
	}
	if c.MetricsHost == "" {
		c.MetricsHost = DefaultMetricsHost
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}
