package cni

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Calico's fixed data-path constants.
var (
	// HostVethMAC is the MAC of every host-side cali interface: pods only
	// ever talk to the host, so one well-known MAC avoids the kernel
	// generating (and sometimes failing to persist) a random one.
	HostVethMAC = net.HardwareAddr{0xee, 0xee, 0xee, 0xee, 0xee, 0xee}
	// GatewayIPv4 is the pod's IPv4 next hop. Nothing owns it: the host
	// answers ARP for it on the cali interface through proxy_arp.
	GatewayIPv4 = netip.MustParseAddr("169.254.1.1")
)

// PodNetwork is what SetupPod builds for one workload interface.
type PodNetwork struct {
	// NetNS is the pod's network namespace path (CNI_NETNS).
	NetNS string
	// IfName is the pod-side interface, usually eth0 (CNI_IFNAME).
	IfName string
	// HostVeth is the host-side name, cali + 11 hex digits.
	HostVeth string
	// MTU applies to both ends.
	MTU int
	// NumQueues, when > 0, sets the veth's TX and RX queues.
	NumQueues int
	// AllowIPForwarding sets ip_forward inside the pod (container_settings).
	AllowIPForwarding bool
	// Addrs are the pod's addresses (host routes are /32 and /128).
	Addrs []netip.Addr
}

// PodLinks is what SetupPod made.
type PodLinks struct {
	HostIndex int
	PodMAC    net.HardwareAddr
	// HostIPv6LinkLocal is the pod's IPv6 next hop (zero without IPv6).
	HostIPv6LinkLocal netip.Addr
}

// hasFamily reports whether p has an address of the family.
func (p PodNetwork) hasFamily(v4 bool) bool {
	for _, a := range p.Addrs {
		if a.Is4() == v4 {
			return true
		}
	}
	return false
}

// SetupPod creates the veth pair and configures both ends exactly as
// Calico does. It runs in the host namespace (the plugin's own); a stale
// host veth of the same name and an existing pod interface of the same name
// (a repeated ADD) are replaced. On error the caller removes what was made
// with TeardownPod and DeleteHostVeth.
func SetupPod(p PodNetwork) (*PodLinks, error) {
	podNS, err := ns.GetNS(p.NetNS)
	if err != nil {
		return nil, &NetNSError{Path: p.NetNS, Err: err}
	}
	defer podNS.Close()

	if err := DeleteHostVeth(p.HostVeth); err != nil {
		return nil, err
	}
	if err := podNS.Do(func(ns.NetNS) error { return deleteLink(p.IfName) }); err != nil {
		return nil, fmt.Errorf("remove the previous %s in %s: %w", p.IfName, p.NetNS, err)
	}

	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: p.HostVeth, MTU: p.MTU, HardwareAddr: HostVethMAC, TxQLen: -1},
		PeerName:      p.IfName,
		PeerNamespace: netlink.NsFd(int(podNS.Fd())),
		PeerMTU:       uint32(p.MTU),
		PeerTxQLen:    -1,
	}
	if p.NumQueues > 0 {
		veth.NumTxQueues, veth.NumRxQueues = p.NumQueues, p.NumQueues
		veth.PeerNumTxQueues, veth.PeerNumRxQueues = uint32(p.NumQueues), uint32(p.NumQueues)
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("create veth %s ⇄ %s (in %s): %w", p.HostVeth, p.IfName, p.NetNS, err)
	}
	host, err := netlink.LinkByName(p.HostVeth)
	if err != nil {
		return nil, fmt.Errorf("find the new host veth %s: %w", p.HostVeth, err)
	}
	v4, v6 := p.hasFamily(true), p.hasFamily(false)
	if err := hostSysctls(p.HostVeth, v4, v6); err != nil {
		return nil, err
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return nil, fmt.Errorf("set %s up: %w", p.HostVeth, err)
	}

	links := &PodLinks{HostIndex: host.Attrs().Index}
	// The pod side comes up first so the pair has carrier and the host end
	// gets its IPv6 link-local address, the pod's IPv6 next hop.
	err = podNS.Do(func(ns.NetNS) error {
		mac, err := podLinkUp(p, v6)
		links.PodMAC = mac
		return err
	})
	if err != nil {
		return nil, err
	}
	if v6 {
		ll, err := waitLinkLocal(host)
		if err != nil {
			return nil, err
		}
		links.HostIPv6LinkLocal = ll
	}
	if err := podNS.Do(func(ns.NetNS) error { return podAddrsAndRoutes(p, links.HostIPv6LinkLocal) }); err != nil {
		return nil, err
	}
	if err := hostRoutes(host, p.Addrs); err != nil {
		return nil, err
	}
	return links, nil
}

// hostSysctls sets Calico's per-interface sysctls on the host veth.
func hostSysctls(name string, v4, v6 bool) error {
	var settings [][2]string
	if v4 {
		settings = append(settings,
			// NAT to the host's loopback (e.g. node-local DNS) needs it.
			[2]string{"net/ipv4/conf/" + name + "/route_localnet", "1"},
			// Answer ARP at once: there is only ever one neighbour.
			[2]string{"net/ipv4/neigh/" + name + "/proxy_delay", "0"},
			// The host answers ARP for 169.254.1.1 (and everything else), so
			// the gateway needs no address anywhere.
			[2]string{"net/ipv4/conf/" + name + "/proxy_arp", "1"},
			[2]string{"net/ipv4/conf/" + name + "/forwarding", "1"},
		)
	}
	if v6 {
		settings = append(settings,
			[2]string{"net/ipv6/conf/" + name + "/disable_ipv6", "0"},
			// No duplicate address detection on a point-to-point link: it
			// would delay the link-local next hop by a second.
			[2]string{"net/ipv6/conf/" + name + "/accept_dad", "0"},
			[2]string{"net/ipv6/conf/" + name + "/proxy_ndp", "1"},
			[2]string{"net/ipv6/conf/" + name + "/forwarding", "1"},
		)
	}
	for _, s := range settings {
		if err := writeSysctl(s[0], s[1]); err != nil {
			return err
		}
	}
	return nil
}

// podLinkUp prepares and raises the pod interface (inside the pod netns).
func podLinkUp(p PodNetwork, v6 bool) (net.HardwareAddr, error) {
	if v6 {
		for _, s := range []string{"all", "default", "lo"} {
			if err := writeSysctl("net/ipv6/conf/"+s+"/disable_ipv6", "0"); err != nil {
				return nil, err
			}
		}
		if err := writeSysctl("net/ipv6/conf/"+p.IfName+"/accept_dad", "0"); err != nil {
			return nil, err
		}
	}
	if p.AllowIPForwarding {
		if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
			return nil, err
		}
		if v6 {
			if err := writeSysctl("net/ipv6/conf/all/forwarding", "1"); err != nil {
				return nil, err
			}
		}
	}
	link, err := netlink.LinkByName(p.IfName)
	if err != nil {
		return nil, fmt.Errorf("find %s in the pod: %w", p.IfName, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("set %s up in the pod: %w", p.IfName, err)
	}
	return link.Attrs().HardwareAddr, nil
}

// podAddrsAndRoutes adds the /32 (/128) addresses and the routes via the
// link-local gateways (inside the pod netns).
func podAddrsAndRoutes(p PodNetwork, hostLL netip.Addr) error {
	link, err := netlink.LinkByName(p.IfName)
	if err != nil {
		return fmt.Errorf("find %s in the pod: %w", p.IfName, err)
	}
	idx := link.Attrs().Index
	if p.hasFamily(true) {
		gw := prefixNet(netip.PrefixFrom(GatewayIPv4, 32))
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: idx, Scope: netlink.SCOPE_LINK, Dst: gw}); err != nil {
			return fmt.Errorf("add route %s dev %s scope link in the pod: %w", GatewayIPv4, p.IfName, err)
		}
		def := &netlink.Route{LinkIndex: idx, Dst: prefixNet(netip.MustParsePrefix("0.0.0.0/0")), Gw: GatewayIPv4.AsSlice()}
		if err := netlink.RouteAdd(def); err != nil {
			return fmt.Errorf("add default route via %s in the pod: %w", GatewayIPv4, err)
		}
	}
	if p.hasFamily(false) {
		def := &netlink.Route{LinkIndex: idx, Dst: prefixNet(netip.MustParsePrefix("::/0")), Gw: hostLL.AsSlice()}
		if err := netlink.RouteAdd(def); err != nil {
			return fmt.Errorf("add default route via %s in the pod: %w", hostLL, err)
		}
	}
	for _, a := range p.Addrs {
		addr := &netlink.Addr{IPNet: prefixNet(netip.PrefixFrom(a, a.BitLen()))}
		if a.Is6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("add address %s to %s in the pod: %w", addr.IPNet, p.IfName, err)
		}
	}
	return nil
}

// waitLinkLocal waits for the host veth's IPv6 link-local address.
func waitLinkLocal(host netlink.Link) (netip.Addr, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		addrs, err := netlinksafe.AddrList(host, netlink.FAMILY_V6)
		if err == nil {
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() && a.Flags&unix.IFA_F_TENTATIVE == 0 {
					return ip, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return netip.Addr{}, fmt.Errorf("%s has no IPv6 link-local address after 2s (is IPv6 disabled on this host?); the pod's IPv6 default route needs it", host.Attrs().Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostRoutes adds <podIP>/32 (/128) dev <hostVeth> scope link. A route to
// the address that already exists on the same interface is fine (Felix may
// have made it); on another interface it is an address conflict.
func hostRoutes(host netlink.Link, addrs []netip.Addr) error {
	for _, a := range addrs {
		dst := prefixNet(netip.PrefixFrom(a, a.BitLen()))
		err := netlink.RouteAdd(&netlink.Route{LinkIndex: host.Attrs().Index, Scope: netlink.SCOPE_LINK, Dst: dst})
		if err == nil {
			continue
		}
		if !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("add host route %s dev %s: %w", dst, host.Attrs().Name, err)
		}
		routes, lerr := netlinksafe.RouteListFiltered(familyOf(a), &netlink.Route{Dst: dst}, netlink.RT_FILTER_DST)
		if lerr != nil {
			return fmt.Errorf("add host route %s dev %s: it exists, and listing routes failed: %w", dst, host.Attrs().Name, lerr)
		}
		for _, r := range routes {
			if r.LinkIndex == host.Attrs().Index {
				goto next
			}
		}
		return fmt.Errorf("a route to %s already exists on another interface (%s); another workload holds this address — release it or delete the stale route", dst, linkNames(routes))
	next:
	}
	return nil
}

// DeleteHostVeth removes a host-side interface by name; absent is fine.
func DeleteHostVeth(name string) error {
	if err := deleteLink(name); err != nil {
		return fmt.Errorf("remove old host veth %s: %w", name, err)
	}
	return nil
}

// TeardownPod removes the pod's interface (and so its host peer and host
// routes). A namespace or interface that no longer exists is not an error:
// DEL must be idempotent.
func TeardownPod(netnsPath, ifName string) error {
	if netnsPath == "" {
		return nil
	}
	podNS, err := ns.GetNS(netnsPath)
	if err != nil {
		var gone ns.NSPathNotExistErr
		var notNS ns.NSPathNotNSErr
		if errors.As(err, &gone) || errors.As(err, &notNS) || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("open pod netns %s: %w", netnsPath, err)
	}
	defer podNS.Close()
	return podNS.Do(func(ns.NetNS) error { return deleteLink(ifName) })
}

// deleteLink deletes a link in the current namespace if it exists.
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, syscall.ENODEV) {
		return err
	}
	return nil
}

// writeSysctl writes /proc/sys/<path> in the calling thread's namespace.
func writeSysctl(path, value string) error {
	if err := os.WriteFile(filepath.Join("/proc/sys", path), []byte(value), 0o644); err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", filepath.ToSlash(path), value, err)
	}
	return nil
}

// readSysctl reads /proc/sys/<path>.
func readSysctl(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", path))
	if err != nil {
		return "", err
	}
	return string(trimNL(b)), nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// prefixNet converts a prefix to the *net.IPNet netlink wants.
func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// linkNames names the interfaces routes point at, for messages.
func linkNames(routes []netlink.Route) string {
	s := ""
	for i, r := range routes {
		name := fmt.Sprintf("ifindex %d", r.LinkIndex)
		if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
			name = l.Attrs().Name
		}
		if i > 0 {
			s += ", "
		}
		s += name
	}
	return s
}

// NetNSError says the pod's network namespace cannot be used.
type NetNSError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *NetNSError) Error() string {
	return fmt.Sprintf("pod network namespace %s cannot be opened: %v (did the container exit before networking was set up?)", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *NetNSError) Unwrap() error { return e.Err }
