package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"reflect"
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
	RouteAdd(route *netlink.Route) error
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

	// LinkIndex resolves a device name (tunl0) to its index; nil, or an
	// error, installs IPIP routes without the tunnel (logged).
	LinkIndex func(name string) (int, error)

	mu         sync.Mutex
	learned    map[netip.Prefix]netip.Addr
	blackholes map[netip.Prefix]bool
	tunnels    TunnelPolicy
	// tunnelWarned limits the "tunl0 missing" warning to one per outage.
	tunnelWarned bool
	// known holds every prefix desired at some point in this run: its
	// route may be deleted when no longer desired. Protocol-12 routes that
	// were already in the kernel when we started (a previous run's) are
	// only swept after AllowSweep, so an agent restart does not blackhole
	// traffic while the sessions come back.
	known map[netip.Prefix]bool
	sweep bool
	// pending holds prefixes whose learned route changed since the last
	// apply; needFull asks for a full table diff instead (start, blackhole
	// changes, sweep, resync tick, after an error).
	pending  map[netip.Prefix]bool
	needFull bool
	dirty    chan struct{}
	// unreachable holds learned routes the kernel refused because their
	// next hop is on no connected network (a node on another subnet
	// without IPIP/VXLAN), with the next hop refused. They are logged once
	// per prefix and next hop and retried only on the resync tick or when
	// the route changes, not every second like other failures.
	unreachable map[netip.Prefix]netip.Addr
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
		pending:        map[netip.Prefix]bool{},
		unreachable:    map[netip.Prefix]netip.Addr{},
		needFull:       true,
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
		ri.pending[r.Prefix] = true
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
	ri.needFull = true
	ri.mu.Unlock()
	ri.markDirty()
}

// SetTunnels replaces the policy saying which learned routes go over
// tunl0 (Desired.Tunnels); routes whose encapsulation changes are replaced
// in place at the next apply.
func (ri *RouteInstaller) SetTunnels(t TunnelPolicy) {
	ri.mu.Lock()
	changed := !reflect.DeepEqual(ri.tunnels, t)
	if changed {
		ri.tunnels = t
		ri.needFull = true
	}
	ri.mu.Unlock()
	if changed {
		ri.markDirty()
	}
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
	ri.needFull = true
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
			ri.mu.Lock()
			ri.needFull = true
			ri.mu.Unlock()
		}
		ri.mu.Lock()
		full := ri.needFull
		ri.mu.Unlock()
		apply := ri.ApplyPending
		if full {
			apply = ri.Apply
		}
		if err := apply(); err != nil {
			ri.mu.Lock()
			ri.needFull = true
			ri.mu.Unlock()
			ri.log.Warn("BGP routes not fully programmed; retrying", "err", err)
			time.AfterFunc(time.Second, ri.markDirty)
		}
	}
}

// Apply makes the kernel match the desired routes with the minimal change:
// protocol-12 routes no longer desired are deleted (those from before this
// run only after AllowSweep), different ones of ours are replaced in place
// (no delete-then-add gap), missing ones are added without overwriting any
// other owner's route.
func (ri *RouteInstaller) Apply() error {
	ri.mu.Lock()
	sweep := ri.sweep
	known := maps.Clone(ri.known)
	clear(ri.pending)
	ri.needFull = false
	ri.mu.Unlock()
	want := ri.desiredRoutes()
	ours := map[netip.Prefix]bool{}
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
				} else {
					ours[p] = true // a different route of ours: replaced below
				}
				continue
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
		if err := ri.noteUnreachable(p, want[p], ri.install(want[p], ours[p])); err != nil {
			errs = append(errs, err)
		}
	}
	ri.forgetUnreachable(func(p netip.Prefix) bool { _, wanted := want[p]; return !wanted })
	return errors.Join(errs...)
}

// noteUnreachable takes the result of installing r (for prefix p). A
// refusal because the next hop is unreachable is recorded and logged once
// per prefix and next hop, and not returned as an error, so it does not
// trigger the one-second retry; any other result clears the record.
func (ri *RouteInstaller) noteUnreachable(p netip.Prefix, r *netlink.Route, err error) error {
	nh, _ := netip.AddrFromSlice(r.Gw)
	nh = nh.Unmap()
	ri.mu.Lock()
	defer ri.mu.Unlock()
	prev, had := ri.unreachable[p]
	if err == nil || !errors.Is(err, unix.ENETUNREACH) {
		if had {
			delete(ri.unreachable, p)
			if err == nil {
				ri.log.Info("BGP route installed; its next hop is reachable now", "prefix", p, "nextHop", nh)
			}
		}
		return err
	}
	ri.unreachable[p] = nh
	if !had || prev != nh {
		ri.log.Warn("BGP route not installed: its next hop is not on a network this node reaches directly "+
			"(a node on another subnet needs IPIP or VXLAN, or a route to it); retried every resync and when the route changes",
			"prefix", p, "nextHop", nh, "err", err)
	}
	return nil
}

// forgetUnreachable drops the records of prefixes for which gone is true
// (no longer desired: withdrawn, or now a blackhole).
func (ri *RouteInstaller) forgetUnreachable(gone func(netip.Prefix) bool) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	maps.DeleteFunc(ri.unreachable, func(p netip.Prefix, _ netip.Addr) bool { return gone(p) })
}

// install puts r in the kernel. Replacing is only done over a route known
// to be ours; otherwise the route is added exclusively, so a route another
// owner has for the same destination (the kernel keeps one per
// destination and metric) is never overwritten: that is reported instead.
func (ri *RouteInstaller) install(r *netlink.Route, oursThere bool) error {
	if oursThere {
		if err := ri.rt.RouteReplace(r); err != nil {
			return fmt.Errorf("install route %s: %w", describeRoute(r), err)
		}
		return nil
	}
	err := ri.rt.RouteAdd(r)
	if !errors.Is(err, unix.EEXIST) {
		if err != nil {
			return fmt.Errorf("install route %s: %w", describeRoute(r), err)
		}
		return nil
	}
	fam := netlink.FAMILY_V4
	if r.Dst.IP.To4() == nil {
		fam = netlink.FAMILY_V6
	}
	existing, lerr := ri.rt.RouteListFiltered(fam, &netlink.Route{Dst: r.Dst, Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_DST|netlink.RT_FILTER_TABLE)
	if lerr != nil {
		return fmt.Errorf("install route %s: %w", describeRoute(r), lerr)
	}
	for _, e := range existing {
		if e.Dst != nil && e.Dst.String() == r.Dst.String() && e.Protocol != RouteProtocolBIRD {
			return fmt.Errorf("install route %s: the kernel already has a route for %s with protocol %s, which is not ours; leaving it alone", describeRoute(r), r.Dst, e.Protocol)
		}
	}
	if err := ri.rt.RouteReplace(r); err != nil {
		return fmt.Errorf("install route %s: %w", describeRoute(r), err)
	}
	return nil
}

// ApplyPending programs only the prefixes whose learned route changed
// since the last apply: install what is wanted, delete (protocol 12 only,
// so the kernel never matches another owner's route) what is not. This
// keeps a 10,000-route ingest linear instead of re-listing the table per
// batch; the full diff still runs on every resync tick.
func (ri *RouteInstaller) ApplyPending() error {
	ri.mu.Lock()
	prefixes := make([]netip.Prefix, 0, len(ri.pending))
	for p := range ri.pending {
		prefixes = append(prefixes, p)
	}
	clear(ri.pending)
	ri.mu.Unlock()
	slices.SortFunc(prefixes, comparePrefix)
	want := ri.desiredRoutes()
	var errs []error
	for _, p := range prefixes {
		if w, ok := want[p]; ok {
			if err := ri.noteUnreachable(p, w, ri.install(w, false)); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		ri.forgetUnreachable(func(q netip.Prefix) bool { return q == p })
		r := &netlink.Route{Dst: ipNet(p), Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN}
		if err := ri.rt.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("delete route %s: %w", p, err))
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
	tunnel := -1 // tunl0's index, looked up once when first needed
	for p, nh := range ri.learned {
		r := &netlink.Route{Dst: ipNet(p), Gw: net.IP(nh.AsSlice()), Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST}
		if ri.tunnels.OverIPIP(p, nh) {
			if tunnel == -1 {
				tunnel = ri.tunnelIndexLocked()
			}
			if tunnel > 0 {
				r.LinkIndex, r.Flags = tunnel, int(netlink.FLAG_ONLINK)
			}
		}
		out[p] = r
	}
	for p := range ri.blackholes {
		out[p] = &netlink.Route{Dst: ipNet(p), Protocol: RouteProtocolBIRD, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_BLACKHOLE}
	}
	return out
}

// tunnelIndexLocked returns tunl0's index, or 0 when it cannot be found
// (then IPIP routes go in without the tunnel until it appears; the resync
// tick picks it up). Called with ri.mu held.
func (ri *RouteInstaller) tunnelIndexLocked() int {
	if ri.LinkIndex == nil {
		return 0
	}
	idx, err := ri.LinkIndex(IPIPDevice)
	if err != nil {
		if !ri.tunnelWarned {
			ri.log.Warn("routes of IPIP pools go in without the tunnel: "+IPIPDevice+" not found (Felix creates it; the kernel needs the ipip module)", "err", err)
			ri.tunnelWarned = true
		}
		return 0
	}
	ri.tunnelWarned = false
	return idx
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
	onlink := have.Flags&int(netlink.FLAG_ONLINK) != 0
	if want.LinkIndex != 0 {
		return have.Gw.Equal(want.Gw) && have.LinkIndex == want.LinkIndex && onlink
	}
	return have.Gw.Equal(want.Gw) && !onlink // not (any more) over a tunnel
}

func describeRoute(r *netlink.Route) string {
	if r.Type == unix.RTN_BLACKHOLE {
		return "blackhole " + r.Dst.String()
	}
	if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
		return fmt.Sprintf("%s via %s dev#%d onlink", r.Dst, r.Gw, r.LinkIndex)
	}
	return fmt.Sprintf("%s via %s", r.Dst, r.Gw)
}
