package dataplane

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// HostInterfaces lists the interfaces of the calling thread's network
// namespace with their addresses: the input of SetHostInterfaces, which
// resolves host endpoints given only by expectedIPs to interfaces.
func HostInterfaces() (map[string][]netip.Addr, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("listing host interfaces (for expectedIPs host endpoints): %w", err)
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing host addresses (for expectedIPs host endpoints): %w", err)
	}
	names := make(map[int]string, len(links))
	out := make(map[string][]netip.Addr, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
		out[l.Attrs().Name] = nil
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if name, known := names[a.LinkIndex]; ok && known {
			out[name] = append(out[name], ip.Unmap())
		}
	}
	return out, nil
}
