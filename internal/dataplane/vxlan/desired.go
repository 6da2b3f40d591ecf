package vxlan

import (
	"net/netip"
	"sort"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

// Calico's defaults for the IPv4 VXLAN device.
const (
	// DeviceName is the IPv4 VXLAN device Felix owns.
	DeviceName = "vxlan.calico"
	// DefaultVNI is the VXLAN network identifier (FelixConfiguration vxlanVNI).
	DefaultVNI = 4096
	// DefaultPort is the VXLAN UDP destination port (vxlanPort).
	DefaultPort = 4789
	// RouteProtocol marks the routes this manager owns (Felix's proto 80).
	RouteProtocol = 80
	// encapOverhead is what VXLAN over IPv4 costs (outer IP+UDP+VXLAN+eth).
	encapOverhead = 50
)

// Device is the desired vxlan.calico device.
type Device struct {
	VNI      int
	Port     int
	Local    netip.Addr // this node's IP (the tunnel's parent address)
	Addr     netip.Addr // this node's VXLAN tunnel address (/32 on the device)
	MAC      string
	MTU      int // 0: parent MTU − 50
	ParentIP netip.Addr
}

// Neighbour is one remote VTEP: the ARP and FDB entries for it.
type Neighbour struct {
	TunnelIP netip.Addr // remote vxlan.calico address
	MAC      string     // remote vxlan.calico MAC
	NodeIP   netip.Addr // remote node address (FDB destination)
}

// Route is one block route over the tunnel.
type Route struct {
	Dst netip.Prefix
	Via netip.Addr // remote tunnel IP
}

// Desired is the whole state the manager converges the kernel to. Device
// is nil when VXLAN is not in use on this node (the device is then removed).
type Desired struct {
	Device     *Device
	Neighbours []Neighbour // sorted by TunnelIP
	Routes     []Route     // sorted by Dst
}

// needsEncap reports whether traffic to a remote block in this pool goes
// over VXLAN: Always, or CrossSubnet when the owning node is on another
// subnet.
func needsEncap(r calc.Route) bool {
	if r.Pool == nil {
		return false
	}
	switch r.Pool.VXLANMode {
	case v3.VXLANModeAlways:
		return true
	case v3.VXLANModeCrossSubnet:
		return !r.SameSubnet
	}
	return false
}

// inputs are the calc updates VXLAN uses: the VTEPs (this node's device,
// the other nodes' neighbours), the remote block routes, the pools'
// vxlanMode and the config (vxlanEnabled, VNI, port, MTU).
const inputs = routeinput.VTEPs | routeinput.Routes | routeinput.Pools | routeinput.Config

// inUse reports whether a pool needs VXLAN: an IPv4 pool with vxlanMode
// Always or CrossSubnet.
func inUse(p calc.Pool) bool {
	if p.VXLANMode != v3.VXLANModeAlways && p.VXLANMode != v3.VXLANModeCrossSubnet {
		return false
	}
	pp, err := netip.ParsePrefix(p.CIDR)
	return err == nil && pp.Addr().Is4()
}

// computeDesired derives the desired state. VXLAN is in use when some pool
// has VXLAN on (or vxlanEnabled forces it) and this node has a complete
// IPv4 VTEP; vxlanEnabled=false turns it off.
func computeDesired(in *routeinput.Input) Desired {
	var d Desired
	me, ok := in.LocalVTEP()
	if !ok {
		return d
	}
	local, err1 := netip.ParseAddr(me.ParentIPv4)
	addr, err2 := netip.ParseAddr(me.IPv4Addr)
	if err1 != nil || err2 != nil || me.MAC == "" || !addr.Is4() {
		return d
	}
	enabled := in.AnyPool(inUse)
	dev := &Device{VNI: DefaultVNI, Port: DefaultPort, Local: local, Addr: addr, MAC: me.MAC}
	if c := in.Config(); c != nil {
		if c.VXLANEnabled != nil {
			enabled = *c.VXLANEnabled
		}
		if c.VXLANVNI != nil && *c.VXLANVNI > 0 {
			dev.VNI = *c.VXLANVNI
		}
		if c.VXLANPort != nil && *c.VXLANPort > 0 {
			dev.Port = *c.VXLANPort
		}
		if c.VXLANMTU != nil && *c.VXLANMTU > 0 {
			dev.MTU = *c.VXLANMTU
		}
	}
	if !enabled {
		return d
	}
	d.Device = dev
	tunnelOf := map[string]netip.Addr{}
	for v := range in.RemoteVTEPs() {
		tip, err1 := netip.ParseAddr(v.IPv4Addr)
		nip, err2 := netip.ParseAddr(v.ParentIPv4)
		if err1 != nil || err2 != nil || v.MAC == "" || !tip.Is4() || !nip.Is4() {
			continue
		}
		tunnelOf[v.Node] = tip
		d.Neighbours = append(d.Neighbours, Neighbour{TunnelIP: tip, MAC: v.MAC, NodeIP: nip})
	}
	for r := range in.RemoteBlocks() {
		if !needsEncap(r) {
			continue
		}
		dst, err := netip.ParsePrefix(r.Dst)
		via, ok := tunnelOf[r.Node]
		if err != nil || !ok || !dst.Addr().Is4() {
			continue // no VTEP for the node yet: the route follows its VTEPUpdate
		}
		d.Routes = append(d.Routes, Route{Dst: dst.Masked(), Via: via})
	}
	sort.Slice(d.Neighbours, func(i, j int) bool { return d.Neighbours[i].TunnelIP.Less(d.Neighbours[j].TunnelIP) })
	sort.Slice(d.Routes, func(i, j int) bool { return d.Routes[i].Dst.String() < d.Routes[j].Dst.String() })
	return d
}
