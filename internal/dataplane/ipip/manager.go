package ipip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

// ErrNoIPIPModule is wrapped by Apply's error when the kernel cannot create
// an IPIP device (no ipip module, or built without IP tunnelling).
var ErrNoIPIPModule = errors.New("kernel has no ipip module")

// Config configures a Manager.
type Config struct {
	// NodeName is this node (its IPIP tunnel address goes on tunl0).
	NodeName string
	// Handle is the netlink handle to program through; nil uses the
	// namespace of whichever thread runs Apply (calico-node's own).
	Handle *netlink.Handle
	Log    *slog.Logger
}

// Manager converges tunl0 to what the calc updates describe. OnUpdate and
// Apply must be called from one goroutine (Felix's loop).
type Manager struct {
	cfg Config
	h   *netlink.Handle
	in  *routeinput.Input // this node's VTEP, the pools, the config
}

// New builds a Manager; nothing touches the kernel before Apply.
func New(cfg Config) *Manager {
	cfg.Log = cmp.Or(cfg.Log, slog.Default())
	return &Manager{cfg: cfg,
		h:  cmp.Or(cfg.Handle, &netlink.Handle{}), // zero Handle: per-call sockets in the current namespace
		in: routeinput.New(cfg.NodeName, inputs)}
}

// OnUpdate records one calc update; the ones IPIP does not use are ignored.
// The desired state is derived from the input when needed, once per Apply
// rather than once per update of a batch.
func (m *Manager) OnUpdate(u calc.Update) { m.in.Record(u) }

// Desired returns the device the next Apply converges to (nil: IPIP not
// in use).
func (m *Manager) Desired() *Device { return computeDesired(m.in) }

// Resync makes the next Apply re-read and repair the kernel state.
func (m *Manager) Resync() { m.in.MarkDirty() }

// Apply reconciles tunl0 with the desired state, changing only what
// differs; it does nothing when no update arrived since the last success.
// When IPIP is not in use, our address is removed from an existing tunl0
// (the kernel's fallback device itself cannot be deleted).
func (m *Manager) Apply(ctx context.Context) error { return m.in.ApplyIfDirty(m.reconcile) }

func (m *Manager) reconcile() error {
	d := m.Desired()
	link, err := m.h.LinkByName(DeviceName)
	var notFound netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("ipip: reading link %s: %w", DeviceName, err)
	}
	if err != nil {
		link = nil
	}
	if d == nil {
		if link != nil {
			return m.syncAddr(link, netip.Addr{})
		}
		return nil
	}
	if link == nil {
		if link, err = m.create(); err != nil {
			return err
		}
	}
	mtu := d.MTU
	if mtu == 0 {
		mtu = m.defaultMTU(d.ParentIP)
	}
	if link.Attrs().MTU != mtu {
		if err := m.h.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("ipip: setting %s MTU to %d (ipipMTU): %w", DeviceName, mtu, err)
		}
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := m.h.LinkSetUp(link); err != nil {
			return fmt.Errorf("ipip: setting %s up: %w", DeviceName, err)
		}
	}
	return m.syncAddr(link, d.Addr)
}

// create adds tunl0, as Felix does (`ip link add tunl0 type ipip`): with
// the ipip module loaded the kernel already has it; without the module the
// add fails, reported as ErrNoIPIPModule.
func (m *Manager) create() (netlink.Link, error) {
	err := m.h.LinkAdd(&netlink.Iptun{LinkAttrs: netlink.LinkAttrs{Name: DeviceName}})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		if NoModule(err) {
			return nil, fmt.Errorf("ipip: creating %s: %w: %v (load it with `modprobe ipip`, or use VXLAN pools)", DeviceName, ErrNoIPIPModule, err)
		}
		return nil, fmt.Errorf("ipip: creating %s: %w", DeviceName, err)
	}
	link, err := m.h.LinkByName(DeviceName)
	if err != nil {
		return nil, fmt.Errorf("ipip: reading %s after creating it: %w", DeviceName, err)
	}
	return link, nil
}

// NoModule reports whether a link-add error means the kernel has no IPIP
// support: the link kind is unknown (EOPNOTSUPP) or the module is missing
// (ENODEV, or EINVAL from older kernels).
func NoModule(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EINVAL)
}

// defaultMTU is the MTU of the interface holding the node's address minus
// the IPIP header (1480 when the address is not found).
func (m *Manager) defaultMTU(parent netip.Addr) int {
	if parent.IsValid() {
		if addrs, err := m.h.AddrList(nil, unix.AF_INET); err == nil {
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == parent {
					if l, err := m.h.LinkByIndex(a.LinkIndex); err == nil {
						return l.Attrs().MTU - encapOverhead
					}
				}
			}
		}
	}
	m.cfg.Log.Warn("node IP not found on any interface; IPIP MTU defaults to 1480", "nodeIP", parent)
	return 1500 - encapOverhead
}

// syncAddr leaves exactly want/32 on tunl0 (nothing when want is invalid).
func (m *Manager) syncAddr(link netlink.Link, want netip.Addr) error {
	addrs, err := m.h.AddrList(link, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("ipip: listing addresses of %s: %w", DeviceName, err)
	}
	have := false
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if want.IsValid() && ip.Unmap() == want && ones == 32 {
			have = true
			continue
		}
		if err := m.h.AddrDel(link, &a); err != nil {
			return fmt.Errorf("ipip: removing stale address %s from %s: %w", a.IPNet, DeviceName, err)
		}
	}
	if have || !want.IsValid() {
		return nil
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: want.AsSlice(), Mask: net.CIDRMask(32, 32)}}
	if err := m.h.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("ipip: adding tunnel address %s/32 (Node spec.bgp.ipv4IPIPTunnelAddr) to %s: %w", want, DeviceName, err)
	}
	return nil
}
