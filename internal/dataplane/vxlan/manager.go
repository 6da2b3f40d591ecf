package vxlan

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

// Config configures a Manager.
type Config struct {
	// NodeName is this node (its VTEP becomes vxlan.calico's address).
	NodeName string
	// Handle is the netlink handle to program through; nil uses the
	// namespace of whichever thread runs Apply (calico-node's own).
	Handle *netlink.Handle
	Log    *slog.Logger
}

// Manager converges vxlan.calico, its neighbours, FDB entries and proto-80
// routes to what the calc updates describe. OnUpdate and Apply must be
// called from one goroutine (Felix's loop).
type Manager struct {
	cfg Config
	h   *netlink.Handle
	in  *routeinput.Input // VTEPs, remote block routes, pools, config
}

// New builds a Manager; nothing touches the kernel before Apply.
func New(cfg Config) *Manager {
	cfg.Log = cmp.Or(cfg.Log, slog.Default())
	return &Manager{cfg: cfg,
		h:  cmp.Or(cfg.Handle, &netlink.Handle{}), // zero Handle: per-call sockets in the current namespace
		in: routeinput.New(cfg.NodeName, inputs)}
}

// OnUpdate records one calc update; the ones VXLAN does not use are ignored.
// The desired state is derived from the input when needed, once per Apply
// rather than once per update of a batch.
func (m *Manager) OnUpdate(u calc.Update) { m.in.Record(u) }

// Desired returns the state the next Apply converges to (read-only).
func (m *Manager) Desired() Desired { return computeDesired(m.in) }

// Apply reconciles the kernel with the desired state, changing only what
// differs. It does nothing when no update arrived since the last success.
func (m *Manager) Apply(ctx context.Context) error { return m.in.ApplyIfDirty(m.reconcile) }

// Resync makes the next Apply re-read and repair the kernel state.
func (m *Manager) Resync() { m.in.MarkDirty() }

func (m *Manager) reconcile() error {
	d := m.Desired()
	link, err := m.h.LinkByName(DeviceName)
	var notFound netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("vxlan: reading link %s: %w", DeviceName, err)
	}
	if err != nil {
		link = nil
	}
	if d.Device == nil {
		if link != nil {
			m.cfg.Log.Info("VXLAN not in use; removing device", "device", DeviceName)
			if err := m.h.LinkDel(link); err != nil {
				return fmt.Errorf("vxlan: deleting %s (VXLAN no longer in use): %w", DeviceName, err)
			}
		}
		return nil
	}
	link, err = m.ensureDevice(link, d.Device)
	if err != nil {
		return err
	}
	idx := link.Attrs().Index
	if err := m.syncAddr(link, d.Device.Addr); err != nil {
		return err
	}
	if err := m.syncNeighbours(idx, d.Neighbours); err != nil {
		return err
	}
	return m.syncRoutes(idx, d.Routes)
}

// ensureDevice creates vxlan.calico or fixes its attributes; a device whose
// VNI, port, local address or learning differ is recreated.
func (m *Manager) ensureDevice(link netlink.Link, dev *Device) (netlink.Link, error) {
	mac, err := net.ParseMAC(dev.MAC)
	if err != nil {
		return nil, fmt.Errorf("vxlan: node %s: vxlanTunnelMACAddr %q is not a MAC: %w (fix Node.spec.vxlanTunnelMACAddr)", m.cfg.NodeName, dev.MAC, err)
	}
	parent, mtu, err := m.parentOf(dev.Local)
	if err != nil {
		return nil, err
	}
	if dev.MTU > 0 {
		mtu = dev.MTU
	}
	if vx, ok := link.(*netlink.Vxlan); link != nil && (!ok || vx.VxlanId != dev.VNI || vx.Port != dev.Port ||
		!vx.SrcAddr.Equal(net.IP(dev.Local.AsSlice())) || vx.Learning) {
		m.cfg.Log.Info("VXLAN device has the wrong settings; recreating", "device", DeviceName)
		if err := m.h.LinkDel(link); err != nil {
			return nil, fmt.Errorf("vxlan: deleting misconfigured %s: %w", DeviceName, err)
		}
		link = nil
	}
	if link == nil {
		vx := &netlink.Vxlan{LinkAttrs: netlink.LinkAttrs{Name: DeviceName, HardwareAddr: mac, MTU: mtu},
			VxlanId: dev.VNI, Port: dev.Port, SrcAddr: net.IP(dev.Local.AsSlice()), Learning: false}
		if parent != nil {
			vx.VtepDevIndex = parent.Attrs().Index
		}
		if err := m.h.LinkAdd(vx); err != nil {
			return nil, fmt.Errorf("vxlan: creating %s (VNI %d, port %d, local %s): %w", DeviceName, dev.VNI, dev.Port, dev.Local, err)
		}
		if link, err = m.h.LinkByName(DeviceName); err != nil {
			return nil, fmt.Errorf("vxlan: reading back %s: %w", DeviceName, err)
		}
	}
	a := link.Attrs()
	if a.HardwareAddr.String() != mac.String() {
		if err := m.h.LinkSetHardwareAddr(link, mac); err != nil {
			return nil, fmt.Errorf("vxlan: setting %s MAC to %s: %w", DeviceName, mac, err)
		}
	}
	if a.MTU != mtu {
		if err := m.h.LinkSetMTU(link, mtu); err != nil {
			return nil, fmt.Errorf("vxlan: setting %s MTU to %d (vxlanMTU): %w", DeviceName, mtu, err)
		}
	}
	if a.Flags&net.FlagUp == 0 {
		if err := m.h.LinkSetUp(link); err != nil {
			return nil, fmt.Errorf("vxlan: bringing %s up: %w", DeviceName, err)
		}
	}
	return link, nil
}

// parentOf finds the interface holding the node's address and returns the
// default device MTU (its MTU − 50, or 1450 when not found).
func (m *Manager) parentOf(local netip.Addr) (netlink.Link, int, error) {
	addrs, err := m.h.AddrList(nil, unix.AF_INET)
	if err != nil {
		return nil, 0, fmt.Errorf("vxlan: listing addresses to find the interface of node IP %s: %w", local, err)
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == local {
			l, err := m.h.LinkByIndex(a.LinkIndex)
			if err != nil {
				return nil, 0, fmt.Errorf("vxlan: reading the interface of node IP %s: %w", local, err)
			}
			return l, l.Attrs().MTU - encapOverhead, nil
		}
	}
	m.cfg.Log.Warn("node IP not found on any interface; VXLAN MTU defaults to 1450", "nodeIP", local)
	return nil, 1500 - encapOverhead, nil
}

func (m *Manager) syncAddr(link netlink.Link, want netip.Addr) error {
	addrs, err := m.h.AddrList(link, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("vxlan: listing addresses of %s: %w", DeviceName, err)
	}
	have := false
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if ip.Unmap() == want && ones == 32 {
			have = true
			continue
		}
		if err := m.h.AddrDel(link, &a); err != nil {
			return fmt.Errorf("vxlan: removing stale address %s from %s: %w", a.IPNet, DeviceName, err)
		}
	}
	if have {
		return nil
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: want.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	if err := m.h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("vxlan: adding tunnel address %s/32 (Node.spec.ipv4VXLANTunnelAddr) to %s: %w", want, DeviceName, err)
	}
	return nil
}

func (m *Manager) syncNeighbours(idx int, want []Neighbour) error {
	arp := map[netip.Addr]string{}
	fdb := map[string]netip.Addr{}
	for _, n := range want {
		arp[n.TunnelIP] = normMAC(n.MAC)
		fdb[normMAC(n.MAC)] = n.NodeIP
	}
	have, err := m.h.NeighList(idx, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("vxlan: listing neighbours of %s: %w", DeviceName, err)
	}
	ok := map[netip.Addr]bool{}
	for _, n := range have {
		ip, _ := netip.AddrFromSlice(n.IP)
		ip = ip.Unmap()
		if mac, w := arp[ip]; w && n.HardwareAddr.String() == mac && n.State&netlink.NUD_PERMANENT != 0 {
			ok[ip] = true
			continue
		}
		if err := m.h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("vxlan: removing stale neighbour %s on %s: %w", ip, DeviceName, err)
		}
	}
	for ip, mac := range arp {
		if ok[ip] {
			continue
		}
		hw, _ := net.ParseMAC(mac)
		n := &netlink.Neigh{LinkIndex: idx, Family: unix.AF_INET, State: netlink.NUD_PERMANENT, IP: ip.AsSlice(), HardwareAddr: hw}
		if err := m.h.NeighSet(n); err != nil {
			return fmt.Errorf("vxlan: adding neighbour %s lladdr %s dev %s: %w", ip, mac, DeviceName, err)
		}
	}
	haveFDB, err := m.h.NeighList(idx, unix.AF_BRIDGE)
	if err != nil {
		return fmt.Errorf("vxlan: listing FDB of %s: %w", DeviceName, err)
	}
	okFDB := map[string]bool{}
	for _, n := range haveFDB {
		mac := n.HardwareAddr.String()
		ip, _ := netip.AddrFromSlice(n.IP)
		if dst, w := fdb[mac]; w && ip.Unmap() == dst {
			okFDB[mac] = true
			continue
		}
		if n.State&netlink.NUD_PERMANENT == 0 || n.IP == nil {
			continue // not one of ours
		}
		if err := m.h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("vxlan: removing stale FDB entry %s on %s: %w", mac, DeviceName, err)
		}
	}
	for mac, dst := range fdb {
		if okFDB[mac] {
			continue
		}
		hw, _ := net.ParseMAC(mac)
		n := &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF,
			State: netlink.NUD_PERMANENT, IP: dst.AsSlice(), HardwareAddr: hw}
		if err := m.h.NeighSet(n); err != nil {
			return fmt.Errorf("vxlan: adding FDB entry %s dst %s dev %s: %w", mac, dst, DeviceName, err)
		}
	}
	return nil
}

func (m *Manager) syncRoutes(idx int, want []Route) error {
	have, err := m.h.RouteListFiltered(unix.AF_INET, &netlink.Route{LinkIndex: idx, Protocol: RouteProtocol},
		netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return fmt.Errorf("vxlan: listing proto %d routes on %s: %w", RouteProtocol, DeviceName, err)
	}
	w := map[netip.Prefix]netip.Addr{}
	for _, r := range want {
		w[r.Dst] = r.Via
	}
	ok := map[netip.Prefix]bool{}
	for _, r := range have {
		if r.Dst == nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		dst := netip.PrefixFrom(ip.Unmap(), ones)
		gw, _ := netip.AddrFromSlice(r.Gw)
		if via, in := w[dst]; in && gw.Unmap() == via && r.Flags&int(netlink.FLAG_ONLINK) != 0 {
			ok[dst] = true
			continue
		}
		if err := m.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("vxlan: removing stale route %s on %s: %w", dst, DeviceName, err)
		}
	}
	for _, r := range want {
		if ok[r.Dst] {
			continue
		}
		nr := &netlink.Route{LinkIndex: idx, Dst: &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), 32)},
			Gw: r.Via.AsSlice(), Flags: int(netlink.FLAG_ONLINK), Protocol: RouteProtocol}
		if err := m.h.RouteReplace(nr); err != nil {
			return fmt.Errorf("vxlan: adding route %s via %s dev %s onlink: %w", r.Dst, r.Via, DeviceName, err)
		}
	}
	return nil
}

// normMAC renders a MAC in the kernel's lower-case form ("" when invalid).
func normMAC(s string) string {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return ""
	}
	return hw.String()
}
