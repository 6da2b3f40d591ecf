package wlroute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	// DefaultProtocol is the route protocol of workload device routes when
	// FelixConfiguration deviceRouteProtocol is unset: 3 (boot), Calico's
	// default and what the CNI plugin's netlink RouteAdd writes, so the CNI
	// and Felix program an identical route and never fight over it.
	DefaultProtocol = unix.RTPROT_BOOT
	// DefaultInterfacePrefix is the prefix of workload interfaces.
	DefaultInterfacePrefix = "cali"
)

// Config configures a Manager.
type Config struct {
	// Handle is the netlink handle to program through; nil uses the
	// namespace of whichever thread runs Apply.
	Handle *netlink.Handle
	// InterfacePrefix marks the interfaces whose host routes we own
	// (default "cali").
	InterfacePrefix string
	Log             *slog.Logger
}

// Stats counts what the manager did to the kernel.
type Stats struct {
	Added, Removed int
	// DriftRepairs counts routes we had programmed that were found missing
	// or changed and were restored.
	DriftRepairs int
}

// Manager converges workload device routes to the local endpoints the
// calc graph sends. OnUpdate, Apply and Resync must be called from one
// goroutine (Felix's loop).
type Manager struct {
	cfg       Config
	h         *netlink.Handle
	endpoints map[calc.WorkloadEndpointID]endpoint
	protocol  netlink.RouteProtocol
	// in records InSync and whether Apply has work; the endpoints and the
	// route protocol above are this manager's own input.
	in *routeinput.Input
	// programmed holds the routes the last successful Apply left in the
	// kernel; one missing later is drift.
	programmed map[netip.Prefix]placement
	stats      Stats
}

// placement is where and how a route was programmed.
type placement struct {
	iface    string
	protocol netlink.RouteProtocol
}

// endpoint is what the manager keeps of a local workload endpoint.
type endpoint struct {
	iface string
	dsts  []netip.Prefix
}

// New builds a Manager; nothing touches the kernel before Apply.
func New(cfg Config) *Manager {
	cfg.Log = cmp.Or(cfg.Log, slog.Default())
	cfg.InterfacePrefix = cmp.Or(cfg.InterfacePrefix, DefaultInterfacePrefix)
	return &Manager{cfg: cfg,
		h:          cmp.Or(cfg.Handle, &netlink.Handle{}),
		endpoints:  map[calc.WorkloadEndpointID]endpoint{},
		protocol:   DefaultProtocol,
		in:         routeinput.New("", routeinput.InSync), // no node: the endpoints sent are this node's
		programmed: map[netip.Prefix]placement{}}
}

// OnUpdate records one calc update; the ones that do not concern workload
// routes are ignored.
func (m *Manager) OnUpdate(u calc.Update) {
	switch u := u.(type) {
	case calc.WorkloadEndpointUpdate:
		ep := m.endpointOf(u)
		if old, ok := m.endpoints[u.ID]; ok && old.iface == ep.iface && slices.Equal(old.dsts, ep.dsts) {
			return // a policy or label change: the routes stay as they are
		}
		m.endpoints[u.ID] = ep
	case calc.WorkloadEndpointRemove:
		delete(m.endpoints, u.ID)
	case calc.ConfigUpdate:
		p := netlink.RouteProtocol(DefaultProtocol)
		if c := u.Config; c != nil && c.DeviceRouteProtocol != nil {
			if v := *c.DeviceRouteProtocol; v > 0 && v < 256 {
				p = netlink.RouteProtocol(v)
			} else {
				m.cfg.Log.Error("FelixConfiguration deviceRouteProtocol out of range 1-255; using the default",
					"value", v, "default", DefaultProtocol)
			}
		}
		m.protocol = p
	default:
		m.in.Record(u) // InSync; the rest is not about workload routes
		return
	}
	m.in.MarkDirty()
}

// endpointOf parses an endpoint's addresses; unparsable ones are logged
// and skipped (the calc graph has already validated them).
func (m *Manager) endpointOf(u calc.WorkloadEndpointUpdate) endpoint {
	ep := endpoint{iface: u.Endpoint.InterfaceName}
	for _, s := range append(append([]string(nil), u.Endpoint.IPv4Nets...), u.Endpoint.IPv6Nets...) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			m.cfg.Log.Warn("workload endpoint address is not a CIDR; no route for it", "endpoint", u.ID, "address", s)
			continue
		}
		ep.dsts = append(ep.dsts, netip.PrefixFrom(p.Addr().Unmap(), p.Addr().Unmap().BitLen()))
	}
	return ep
}

// Resync makes the next Apply re-read and repair the kernel routes.
func (m *Manager) Resync() { m.in.MarkDirty() }

// Stats returns the counters.
func (m *Manager) Stats() Stats { return m.stats }

// Apply reconciles the kernel with the desired routes. It does nothing
// when no update or resync arrived since the last success.
func (m *Manager) Apply(ctx context.Context) error { return m.in.ApplyIfDirty(m.reconcile) }

// desired maps each wanted destination to its interface. Two endpoints
// claiming one address: the first by ID wins, deterministically.
func (m *Manager) desired() map[netip.Prefix]string {
	ids := make([]calc.WorkloadEndpointID, 0, len(m.endpoints))
	for id := range m.endpoints {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i].Namespace != ids[j].Namespace {
			return ids[i].Namespace < ids[j].Namespace
		}
		return ids[i].Name < ids[j].Name
	})
	want := map[netip.Prefix]string{}
	for _, id := range ids {
		ep := m.endpoints[id]
		for _, d := range ep.dsts {
			if _, taken := want[d]; !taken {
				want[d] = ep.iface
			}
		}
	}
	return want
}

func (m *Manager) reconcile() error {
	links, err := m.h.LinkList()
	if err != nil {
		return fmt.Errorf("workload routes: listing interfaces: %w", err)
	}
	ours := map[string]netlink.Link{}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, m.cfg.InterfacePrefix) {
			ours[l.Attrs().Name] = l
		}
	}
	want := m.desired()
	routes, err := m.mainRoutes()
	if err != nil {
		return err
	}
	ok := map[netip.Prefix]bool{}
	var errs []error
	for _, l := range ours {
		for _, r := range routes[l.Attrs().Index] {
			dst := prefixOf(r.Dst)
			if w, in := want[dst]; in && w == l.Attrs().Name && r.Protocol == m.protocol && r.Gw == nil {
				ok[dst] = true
				continue
			}
			if in := want[dst] != ""; in || !m.in.InSync() || !isHostRoute(dst) || r.Protocol == unix.RTPROT_KERNEL {
				continue // replaced below, or not ours to remove (yet)
			}
			m.cfg.Log.Info("removing workload route no local endpoint wants", "dst", dst, "dev", l.Attrs().Name)
			if err := m.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("workload routes: removing %s dev %s: %w", dst, l.Attrs().Name, err))
				continue
			}
			m.stats.Removed++
		}
	}
	programmed := map[netip.Prefix]placement{}
	for dst, iface := range want {
		l, exists := ours[iface]
		if !exists {
			continue // the interface appears later; a link event or resync adds the route
		}
		here := placement{iface: iface, protocol: m.protocol}
		if ok[dst] {
			programmed[dst] = here
			continue
		}
		if m.programmed[dst] == here {
			m.cfg.Log.Warn("drift: workload route missing or changed; restoring", "dst", dst, "dev", iface)
			m.stats.DriftRepairs++
		}
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Scope: netlink.SCOPE_LINK, Protocol: m.protocol}
		if err := m.h.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("workload routes: adding %s dev %s scope link proto %d: %w", dst, iface, m.protocol, err))
			continue
		}
		m.stats.Added++
		programmed[dst] = here
	}
	m.programmed = programmed
	return errors.Join(errs...)
}

// mainRoutes lists the main table's IPv4 and IPv6 routes by outgoing
// interface index: one dump per family, however many workloads there are.
func (m *Manager) mainRoutes() (map[int][]netlink.Route, error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_MAIN}
	byLink := map[int][]netlink.Route{}
	for _, fam := range []int{unix.AF_INET, unix.AF_INET6} {
		rs, err := m.h.RouteListFiltered(fam, filter, netlink.RT_FILTER_TABLE)
		if err != nil {
			return nil, fmt.Errorf("workload routes: listing the main routing table: %w", err)
		}
		for _, r := range rs {
			if r.Dst != nil {
				byLink[r.LinkIndex] = append(byLink[r.LinkIndex], r)
			}
		}
	}
	return byLink, nil
}

// isHostRoute reports whether dst is a single address (/32, /128) that
// is not IPv6 link-local or multicast: the only kind of route we remove.
func isHostRoute(dst netip.Prefix) bool {
	a := dst.Addr()
	return dst.Bits() == a.BitLen() && !a.IsLinkLocalUnicast() && !a.IsMulticast()
}

func prefixOf(n *net.IPNet) netip.Prefix {
	ip, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
