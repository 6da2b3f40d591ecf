package cni

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// CheckPod compares the kernel with what SetupPod builds and returns one
// line per difference (empty when everything is in place). It runs in the
// host namespace.
func CheckPod(p PodNetwork) []string {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	host, err := netlink.LinkByName(p.HostVeth)
	if err != nil {
		add("host interface %s is missing", p.HostVeth)
		return problems
	}
	hv, ok := host.(*netlink.Veth)
	if !ok {
		add("host interface %s is a %s, not a veth", p.HostVeth, host.Type())
		return problems
	}
	if host.Attrs().Flags&netlinkUp == 0 {
		add("host interface %s is down", p.HostVeth)
	}
	if !bytes.Equal(host.Attrs().HardwareAddr, HostVethMAC) {
		add("host interface %s has MAC %s; want %s", p.HostVeth, host.Attrs().HardwareAddr, HostVethMAC)
	}
	if p.MTU > 0 && host.Attrs().MTU != p.MTU {
		add("host interface %s has MTU %d; want %d", p.HostVeth, host.Attrs().MTU, p.MTU)
	}
	want := map[string]string{}
	if p.hasFamily(true) {
		want["net/ipv4/conf/"+p.HostVeth+"/proxy_arp"] = "1"
		want["net/ipv4/conf/"+p.HostVeth+"/route_localnet"] = "1"
		want["net/ipv4/conf/"+p.HostVeth+"/forwarding"] = "1"
	}
	if p.hasFamily(false) {
		want["net/ipv6/conf/"+p.HostVeth+"/proxy_ndp"] = "1"
		want["net/ipv6/conf/"+p.HostVeth+"/forwarding"] = "1"
	}
	for path, v := range want {
		if got, err := readSysctl(path); err != nil || got != v {
			add("sysctl %s is %q; want %q", path, got, v)
		}
	}
	routes, err := netlinksafe.RouteList(host, netlink.FAMILY_ALL)
	if err != nil {
		add("list routes of %s: %v", p.HostVeth, err)
	}
	for _, a := range p.Addrs {
		// The kernel keeps IPv6 routes at universe scope whatever was asked.
		scope := netlink.SCOPE_LINK
		if a.Is6() {
			scope = anyScope
		}
		if !hasRoute(routes, netip.PrefixFrom(a, a.BitLen()), netip.Addr{}, scope) {
			add("host route %s dev %s scope link is missing", netip.PrefixFrom(a, a.BitLen()), p.HostVeth)
		}
	}
	peerIndex, _ := netlink.VethPeerIndex(hv)

	var hostLL netip.Addr
	if p.hasFamily(false) {
		if addrs, err := netlinksafe.AddrList(host, netlink.FAMILY_V6); err == nil {
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() {
					hostLL = ip
				}
			}
		}
		if !hostLL.IsValid() {
			add("host interface %s has no IPv6 link-local address", p.HostVeth)
		}
	}

	podNS, err := ns.GetNS(p.NetNS)
	if err != nil {
		add("pod network namespace %s cannot be opened: %v", p.NetNS, err)
		return problems
	}
	defer podNS.Close()
	_ = podNS.Do(func(ns.NetNS) error {
		link, err := netlink.LinkByName(p.IfName)
		if err != nil {
			add("pod interface %s is missing in %s", p.IfName, p.NetNS)
			return nil
		}
		if peerIndex > 0 && link.Attrs().Index != peerIndex {
			add("pod interface %s is not the peer of %s", p.IfName, p.HostVeth)
		}
		if link.Attrs().Flags&netlinkUp == 0 {
			add("pod interface %s is down", p.IfName)
		}
		addrs, _ := netlinksafe.AddrList(link, netlink.FAMILY_ALL)
		for _, a := range p.Addrs {
			found := false
			for _, have := range addrs {
				ip, _ := netip.AddrFromSlice(have.IP)
				ones, _ := have.Mask.Size()
				if ip.Unmap() == a && ones == a.BitLen() {
					found = true
				}
			}
			if !found {
				add("pod interface %s lacks address %s", p.IfName, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		routes, _ := netlinksafe.RouteList(link, netlink.FAMILY_ALL)
		if p.hasFamily(true) {
			if !hasRoute(routes, netip.PrefixFrom(GatewayIPv4, 32), netip.Addr{}, netlink.SCOPE_LINK) {
				add("pod route %s dev %s scope link is missing", GatewayIPv4, p.IfName)
			}
			if !hasRoute(routes, netip.MustParsePrefix("0.0.0.0/0"), GatewayIPv4, anyScope) {
				add("pod default route via %s dev %s is missing", GatewayIPv4, p.IfName)
			}
		}
		if p.hasFamily(false) && hostLL.IsValid() && !hasRoute(routes, netip.MustParsePrefix("::/0"), hostLL, anyScope) {
			add("pod IPv6 default route via %s dev %s is missing", hostLL, p.IfName)
		}
		return nil
	})
	return problems
}

// netlinkUp is the IFF_UP bit of net.Flags.
const netlinkUp = 1

// anyScope matches routes of any scope (SCOPE_NOWHERE is never used).
const anyScope = netlink.SCOPE_NOWHERE

// hasRoute looks for a route to dst (via gw when valid; with scope when
// scope is not anyScope). A nil Dst is the default route.
func hasRoute(routes []netlink.Route, dst netip.Prefix, gw netip.Addr, scope netlink.Scope) bool {
	for _, r := range routes {
		var rd netip.Prefix
		if r.Dst == nil {
			if dst.Bits() != 0 {
				continue
			}
			rd = dst
		} else {
			ip, _ := netip.AddrFromSlice(r.Dst.IP)
			ones, _ := r.Dst.Mask.Size()
			rd = netip.PrefixFrom(ip.Unmap(), ones)
		}
		if rd != dst {
			continue
		}
		if gw.IsValid() {
			rgw, _ := netip.AddrFromSlice(r.Gw)
			if rgw.Unmap() != gw {
				continue
			}
		}
		if scope != anyScope && r.Scope != scope {
			continue
		}
		return true
	}
	return false
}
