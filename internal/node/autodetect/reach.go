package autodetect

import (
	"fmt"
	"net"
	"net/netip"
)

// Reach returns the source address the kernel chooses to reach dest, by
// "connecting" a UDP socket to port 80 of dest. Connecting a UDP socket only
// runs the route lookup: no packet is sent. A host name is resolved first.
// The socket is opened in the calling thread's network namespace.
func Reach(dest string, fam Family) (netip.Addr, error) {
	network := fmt.Sprintf("udp%d", fam)
	conn, err := net.Dial(network, net.JoinHostPort(dest, "80"))
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	ua, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || ua == nil {
		return netip.Addr{}, fmt.Errorf("no local address after connecting to %s", dest)
	}
	a, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return netip.Addr{}, fmt.Errorf("local address %v is not an IP", ua.IP)
	}
	return a.Unmap(), nil
}
