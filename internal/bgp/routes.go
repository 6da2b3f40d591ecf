package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocolBIRD is the kernel route protocol number of every route the
// BGP agent owns: 12, the number BIRD (and so Calico) uses, so `ip route`
// shows "proto bird" exactly as on a Calico host.
const RouteProtocolBIRD netlink.RouteProtocol = 12

// RouteTable is the part of netlink the installer uses; *netlink.Handle
// satisfies it (for the current namespace or, via netlink.NewHandleAt,
// another one), and unit tests use a fake.
type RouteTable interface {
	RouteListFiltered(family int, filter *netlink.Route, filterMask uint64) ([]netlink.Route, error)
	RouteReplace(route *netlink.Route) error
	RouteDel(route *netlink.Route) error
}

var _ RouteTable = (*netlink.Handle)(nil)

// RouteInstaller keeps the main routing table's protocol-12 routes equal to
// the learned best paths plus blackholes for this node's blocks. It never
// reads, changes or deletes a route of any other protocol.
//
// Updates only record desired state and mark the table dirty; Run applies
// the whole difference (level-triggered, coalesced), and re-applies every
// ResyncInterval so a route someone deleted comes back.
type RouteInstaller struct {
	rt  RouteTable
	log *slog.Logger
	// ResyncInterval is how often the table is re-checked without a change
	// (default 30s).
	ResyncInterval time.Duration

	mu         sync.Mutex
	learned    map[netip.Prefix]netip.Addr
	blackholes map[netip.Prefix]bool
	// known holds every prefix desired at some point in this run: its
	// route may be deleted when no longer desired. Protocol-12 routes that
	// were already in the kernel when we started (a previous run's) are
	// only swept after AllowSweep, so an agent restart does not blackhole
	// traffic while the sessions come back.
	known map[netip.Prefix]bool
	sweep bool
	dirty chan struct{}
}

// NewRouteInstaller returns an installer writing through rt.
func NewRouteInstaller(rt RouteTable, log *slog.Logger) *RouteInstaller {
	if log == nil {
		log = slog.Default()
	}
	return &RouteInstaller{
		rt:             rt,
		log:            log.With("component", "bgp-routes"),
		ResyncInterval: 30 * time.Second,
		learned:        map[netip.Prefix]netip.Addr{},
		blackholes:     map[netip.Prefix]bool{},
		known:          map[netip.Prefix]bool{},
		dirty:          make(chan struct{}, 1),
	}
}

// OnBestPaths records learned routes and withdrawals (Speaker's callback).
func (ri *RouteInstaller) OnBestPaths(rs []LearnedRoute) {
	ri.mu.Lock()
	for _, r := range rs {
		if r.Withdrawn {
			delete(ri.learned, r.Prefix)
		} else {
			ri.learned[r.Prefix] = r.NextHop
			ri.known[r.Prefix] = true
		}
	}
	ri.mu.Unlock()
	ri.markDirty()
}

// SetBlackholes replaces the set of blackhole routes (Desired.Blackholes).
func (ri *RouteInstaller) SetBlackholes(ps []netip.Prefix) {
	ri.mu.Lock()
	clear(ri.blackholes)
	for _, p := range ps {
		ri.blackholes[p.Masked()] = true
		ri.known[p.Masked()] = true
	}
	ri.mu.Unlock()
	ri.markDirty()
}

func (ri *RouteInstaller) markDirty() {
	select {
	case ri.dirty <- struct{}{}:
	default:
	}
}

// AllowSweep lets Apply delete protocol-12 routes left from before this
// run. The agent calls it once its sessions have converged (or a startup
// grace has passed).
func (ri *RouteInstaller) AllowSweep() {
	ri.mu.Lock()
	ri.sweep = true
	ri.mu.Unlock()
	ri.markDirty()
}

// Run applies changes as they are marked, and periodically, until ctx ends.
// Failures are logged and retried on the next round.
func (ri *RouteInstaller) Run(ctx context.Context) {
	t := time.NewTicker(ri.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ri.dirty:
		case <-t.C:
		}
		if err := ri.Apply(); err != nil {
			ri.log.Warn("BGP routes not fully programmed; retrying", "err", err)
			time.AfterFunc(time.Second, ri.markDirty)
		}
	}
}

// Apply makes the kernel match the desired routes with the minimal change:
// protocol-12 routes no longer desired are deleted (those from before this
// run only after AllowSweep), missing or different ones are replaced in
// place (no delete-then-add gap).
func (ri *RouteInstaller) Apply() error {
	want := ri.desiredRoutes()
	ri.mu.Lock()
	sweep := ri.sweep
	known := maps.Clone(ri.known)
	ri.mu.Unlock()
	var errs []error
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		have, err := ri.rt.RouteListFiltered(fam, &netlink.Route{Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN},
			netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if err != nil {
			return fmt.Errorf("list proto bird routes: %w", err)
		}
		for i := range have {
			r := &have[i]
			if r.Protocol != RouteProtocolBIRD { // belt and braces: never touch others' routes
				continue
			}
			p, ok := routePrefix(r)
			if w, wanted := want[p]; ok && wanted {
				if sameRoute(r, w) {
					delete(want, p)
				}
				continue // a different route is replaced below
			}
			if ok && !sweep && !known[p] {
				continue // a previous run's route: kept until AllowSweep
			}
			if err := ri.rt.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("delete route %s: %w", r, err))
			}
		}
	}
	keys := make([]netip.Prefix, 0, len(want))
	for p := range want {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, comparePrefix)
	for _, p := range keys {
		if err := ri.rt.RouteReplace(want[p]); err != nil {
			errs = append(errs, fmt.Errorf("install route %s: %w", describeRoute(want[p]), err))
		}
	}
	return errors.Join(errs...)
}

// desiredRoutes builds the kernel routes wanted now. A blackhole wins over
// a learned route for the same prefix: the block is ours.
func (ri *RouteInstaller) desiredRoutes() map[netip.Prefix]*netlink.Route {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	out := make(map[netip.Prefix]*netlink.Route, len(ri.learned)+len(ri.blackholes))
	for p, nh := range ri.learned {
		out[p] = &netlink.Route{Dst: ipNet(p), Gw: net.IP(nh.AsSlice()), Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST}
	}
	for p := range ri.blackholes {
		out[p] = &netlink.Route{Dst: ipNet(p), Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_BLACKHOLE}
	}
	return out
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func routePrefix(r *netlink.Route) (netip.Prefix, bool) {
	if r.Dst == nil {
		return netip.Prefix{}, false // a default route; we never install one
	}
	a, ok := netip.AddrFromSlice(r.Dst.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := r.Dst.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func sameRoute(have, want *netlink.Route) bool {
	if have.Type != want.Type {
		return false
	}
	if want.Type == unix.RTN_BLACKHOLE {
		return true
	}
	return have.Gw.Equal(want.Gw)
}

func describeRoute(r *netlink.Route) string {
	if r.Type == unix.RTN_BLACKHOLE {
		return "blackhole " + r.Dst.String()
	}
	return fmt.Sprintf("%s via %s", r.Dst, r.Gw)
}
