package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/tricolor-net/tricolor/internal/bgp"
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
		Health:     agg.Register("bgp", health.GroupBGP, bgpHealthTimeout),
		SocketPath: bgp.StatusSocketPath(os.Getenv),
		Logger:     slog.Default(),
	})
}
