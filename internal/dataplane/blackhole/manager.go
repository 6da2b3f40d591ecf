package blackhole

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the blackhole routes this manager owns (Felix's
// proto 80, as on its VXLAN routes).
const RouteProtocol netlink.RouteProtocol = 80

// Config configures a Manager.
type Config struct {
	// NodeName is this node: blocks affine to it are blackholed.
	NodeName string
	// Handle is the netlink handle to program through; nil uses the
	// namespace of whichever thread runs Apply.
	Handle *netlink.Handle
	Log    *slog.Logger
}

// Stats counts what the manager did to the kernel.
type Stats struct {
	Added, Removed int
	// DriftRepairs counts routes we had programmed that were found missing
	// and restored.
	DriftRepairs int
	// Foreign is how many wanted blocks the last Apply left alone because
	// a route of another protocol (e.g. BIRD's) already covers them.
	Foreign int
}

// Manager converges the proto-80 blackhole routes to this node's affine
// blocks. OnUpdate, Apply and Resync must be called from one goroutine
// (Felix's loop).
type Manager struct {
	cfg Config
	h   *netlink.Handle
	in  *routeinput.Input // block routes, InSync
	// programmed holds the routes the last successful Apply left in the
	// kernel; one missing later is drift.
	programmed map[netip.Prefix]bool
	stats      Stats
}

// New builds a Manager; nothing touches the kernel before Apply.
func New(cfg Config) *Manager {
	cfg.Log = cmp.Or(cfg.Log, slog.Default())
	return &Manager{cfg: cfg,
		h:          cmp.Or(cfg.Handle, &netlink.Handle{}), // zero Handle: per-call sockets in the current namespace
		in:         routeinput.New(cfg.NodeName, inputs),
		programmed: map[netip.Prefix]bool{}}
}

// OnUpdate records one calc update; the ones it does not use are ignored.
func (m *Manager) OnUpdate(u calc.Update) { m.in.Record(u) }

// Wanted returns the blocks the next Apply blackholes (sorted).
func (m *Manager) Wanted() []netip.Prefix { return localBlocks(m.in) }

// Stats returns the counters so far.
func (m *Manager) Stats() Stats { return m.stats }

// Resync makes the next Apply re-read and repair the kernel state.
func (m *Manager) Resync() { m.in.MarkDirty() }

// Apply reconciles the main table with the wanted blackholes, changing only
// what differs. It does nothing when no update arrived since the last
// success.
func (m *Manager) Apply(ctx context.Context) error { return m.in.ApplyIfDirty(m.reconcile) }

// reconcile syncs both families and records what is left programmed.
func (m *Manager) reconcile() error {
	want := map[netip.Prefix]bool{}
	for _, p := range m.Wanted() {
		want[p] = true
	}
	programmed := map[netip.Prefix]bool{}
	foreign := 0
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		n, err := m.syncFamily(family, want, programmed)
		if err != nil {
			return err
		}
		foreign += n
	}
	m.programmed = programmed
	m.stats.Foreign = foreign
	return nil
}

// syncFamily reconciles one address family's main table, recording the
// routes it leaves programmed; it returns how many wanted blocks were
// left to another protocol's route.
func (m *Manager) syncFamily(family int, want, programmed map[netip.Prefix]bool) (int, error) {
	have, err := m.h.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return 0, fmt.Errorf("blackhole: listing main-table routes (family %d): %w", family, err)
	}
	ours := map[netip.Prefix]bool{}    // proto-80 blackholes present
	foreign := map[netip.Prefix]bool{} // any other route to the same destination
	for _, r := range have {
		dst, ok := prefixOf(r.Dst)
		if !ok {
			continue
		}
		if isOurs(r) {
			if !want[dst] {
				if !m.in.InSync() {
					continue // the datastore may not have re-sent the block yet
				}
				m.cfg.Log.Info("removing blackhole route of a block no longer affine to this node", "block", dst)
				if err := m.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
					return 0, fmt.Errorf("blackhole: removing stale blackhole %s proto %d: %w", dst, RouteProtocol, err)
				}
				m.stats.Removed++
				continue
			}
			ours[dst] = true
			continue
		}
		if want[dst] {
			foreign[dst] = true
		}
	}
	skipped := 0
	for dst := range want {
		if dst.Addr().Is4() != (family == unix.AF_INET) {
			continue
		}
		switch {
		case ours[dst]:
			programmed[dst] = true
			continue
		case foreign[dst]:
			skipped++ // e.g. BIRD's proto-bird blackhole: never touched
			continue
		}
		if m.programmed[dst] {
			m.cfg.Log.Warn("drift: blackhole route for a local block missing; restoring", "block", dst)
			m.stats.DriftRepairs++
		}
		nr := &netlink.Route{Dst: ipNet(dst), Type: unix.RTN_BLACKHOLE, Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
		// RouteAdd, not replace: a route someone added since the read wins.
		if err := m.h.RouteAdd(nr); err != nil {
			if errors.Is(err, unix.EEXIST) {
				continue
			}
			return 0, fmt.Errorf("blackhole: adding blackhole %s proto %d for this node's block: %w", dst, RouteProtocol, err)
		}
		m.stats.Added++
		programmed[dst] = true
	}
	return skipped, nil
}

// isOurs reports whether r is a route this manager owns.
func isOurs(r netlink.Route) bool {
	return r.Type == unix.RTN_BLACKHOLE && r.Protocol == RouteProtocol
}

// prefixOf converts a route destination (nil for a default route).
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones).Masked(), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
