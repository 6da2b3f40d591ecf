package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// Version is the calico-node version written to ClusterInformation; release
// builds set it with -ldflags "-X github.com/tricolor-net/tricolor/internal/node.Version=v…".
var Version = "v0.1.0-dev"

// maxNodeWriteAttempts bounds the read-modify-CAS loops on the Node.
const maxNodeWriteAttempts = 5

// Deps are what startup reads from the host; tests replace them.
type Deps struct {
	// Interfaces lists the host's interfaces (default autodetect.Netlink).
	Interfaces autodetect.ListFunc
	// Reach finds the source address for can-reach (default autodetect.Reach).
	Reach autodetect.ReachFunc
	// IPv6Supported reports whether the kernel has IPv6 (default: whether
	// /proc/sys/net/ipv6 exists), as Calico checks before creating the
	// default IPv6 pool.
	IPv6Supported func() bool
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
}

func (d *Deps) fill() {
	if d.Interfaces == nil {
		d.Interfaces = autodetect.Netlink
	}
	if d.Reach == nil {
		d.Reach = autodetect.Reach
	}
	if d.IPv6Supported == nil {
		d.IPv6Supported = func() bool { _, err := os.Stat("/proc/sys/net/ipv6"); return err == nil }
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
}

// Result is what startup did.
type Result struct {
	// Node is the stored Node after startup.
	Node *v3.Node
	// CreatedPools names the default pools this run created.
	CreatedPools []string
	// MTU is the pod MTU written to the mtu file.
	MTU int
	// MTUInterface is the interface the MTU was read from.
	MTUInterface string
}

// Startup runs calico-node's startup once, in Calico's order:
//
//  1. read (or start) this node's Node and fill in its addresses (IP / IP6,
//     autodetected or explicit), AS number and orchestrator reference;
//     write it with compare-and-swap, keeping everything else (labels,
//     route reflector ID, ...);
//  2. create the default IP pools when no pool of a family exists;
//  3. ensure ClusterInformation, the default FelixConfiguration and
//     BGPConfiguration, and FelixConfiguration node.<name>;
//  4. allocate (or release) the node's IPIP / VXLAN tunnel addresses from
//     IPAM, as the enabled pools require;
//  5. write the pod MTU and the node name for the CNI plugin.
//
// It is idempotent: a second run changes nothing that is already right.
func Startup(ctx context.Context, c *client.Client, cfg *Config, deps Deps) (*Result, error) {
	deps.fill()
	log := deps.Logger.With("node", cfg.NodeName)
	log.Info("starting node", "version", Version, "backend", cfg.Backend)
	if err := os.MkdirAll(cfg.VarLibDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w (set %s to a writable directory)", cfg.VarLibDir, err, EnvVarLibDir)
	}
	ifaces, err := deps.Interfaces()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if res.Node, err = configureNode(ctx, c, cfg, ifaces, deps.Reach, log); err != nil {
		return nil, err
	}
	if res.CreatedPools, err = ensureDefaultPools(ctx, c, cfg, ifaces, deps.IPv6Supported, log); err != nil {
		return nil, err
	}
	if err := ensureDefaultConfig(ctx, c, cfg, log); err != nil {
		return nil, err
	}
	im := ipam.New(c.Backend(), ipam.Options{Logger: deps.Logger})
	if res.Node, err = ReconcileTunnelAddrs(ctx, c, im, cfg.NodeName, log); err != nil {
		return nil, err
	}
	pools, _, err := client.List[*v3.IPPool](ctx, c, "")
	if err != nil {
		return nil, fmt.Errorf("list IP pools for the MTU: %w", err)
	}
	res.MTU, res.MTUInterface = DetectMTU(res.Node, pools, ifaces, cfg.Felix)
	if err := writeFile(cfg.MTUFile(), fmt.Sprint(res.MTU)); err != nil {
		return nil, err
	}
	if err := writeFile(cfg.NodenameFile(), cfg.NodeName); err != nil {
		return nil, err
	}
	log.Info("node started", "ipv4", bgpAddr(res.Node, 4), "ipv6", bgpAddr(res.Node, 6), "mtu", res.MTU, "mtuInterface", res.MTUInterface)
	return res, nil
}

// updateNode reads the Node, applies mutate and writes it back with
// compare-and-swap (create when it does not exist), retrying on conflict.
// mutate returns false when nothing needs writing.
func updateNode(ctx context.Context, c *client.Client, name string, mutate func(n *v3.Node, exists bool) (bool, error)) (*v3.Node, error) {
	var lastErr error
	for attempt := 1; attempt <= maxNodeWriteAttempts; attempt++ {
		n, err := client.Get[*v3.Node](ctx, c, "", name)
		exists := err == nil
		switch {
		case errors.Is(err, datastore.ErrNotFound):
			n = v3.NewNode()
			n.Name = name
		case err != nil:
			return nil, fmt.Errorf("read node %q: %w", name, err)
		}
		changed, err := mutate(n, exists)
		if err != nil {
			return nil, err
		}
		if !changed && exists {
			return n, nil
		}
		var out v3.Resource
		if exists {
			out, err = c.Update(ctx, n)
		} else {
			out, err = c.Create(ctx, n)
		}
		if err == nil {
			return out.(*v3.Node), nil
		}
		if !errors.Is(err, datastore.ErrConflict) && !errors.Is(err, datastore.ErrAlreadyExists) && !errors.Is(err, datastore.ErrNotFound) {
			return nil, fmt.Errorf("write node %q: %w", name, err)
		}
		lastErr = err
		time.Sleep(time.Duration(attempt*20) * time.Millisecond)
	}
	return nil, fmt.Errorf("write node %q: gave up after %d conflicting attempts: %w", name, maxNodeWriteAttempts, lastErr)
}

// bgpAddr returns the node's BGP address of a family ("" when none).
func bgpAddr(n *v3.Node, fam int) string {
	if n == nil || n.Spec.BGP == nil {
		return ""
	}
	if fam == 4 {
		return n.Spec.BGP.IPv4Address
	}
	return n.Spec.BGP.IPv6Address
}
