package autodetect

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Netlink lists the interfaces of the calling thread's network namespace
// with their addresses. It opens a fresh netlink socket per call, so a
// caller that has locked its goroutine to a thread inside another namespace
// sees that namespace.
func Netlink() ([]Interface, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces (netlink): %w", err)
	}
	out := make([]Interface, 0, len(links))
	for _, l := range links {
		attrs := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("list addresses of interface %s (netlink): %w", attrs.Name, err)
		}
		itf := Interface{Name: attrs.Name, Index: attrs.Index, MTU: attrs.MTU}
		for _, a := range addrs {
			if a.IPNet == nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(a.IPNet.IP)
			if !ok {
				continue
			}
			ones, _ := a.IPNet.Mask.Size()
			itf.Addrs = append(itf.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
		}
		out = append(out, itf)
	}
	return out, nil
}
