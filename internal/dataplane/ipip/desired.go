package ipip

import (
	"net/netip"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

const (
	// DeviceName is the IPIP device Felix owns (the kernel's fallback
	// tunnel, created when the ipip module loads).
	DeviceName = "tunl0"
	// encapOverhead is what IPIP costs: the outer IPv4 header.
	encapOverhead = 20
)

// Device is the desired tunl0.
type Device struct {
	// Addr is this node's IPIP tunnel address (invalid: none assigned yet,
	// the device is configured without one).
	Addr netip.Addr
	// MTU is ipipMTU, or 0 for the MTU of the interface holding ParentIP
	// minus 20.
	MTU int
	// ParentIP is this node's IPv4 address (for MTU detection).
	ParentIP netip.Addr
}

// inputs are the calc updates IPIP uses: this node's VTEP (tunnel and
// parent address), the pools' ipipMode and the config (ipipEnabled, ipipMTU).
const inputs = routeinput.VTEPs | routeinput.Pools | routeinput.Config

// InUse reports whether a pool needs IPIP: an IPv4 pool with ipipMode
// Always or CrossSubnet (disabled pools count: their workloads remain).
func InUse(p calc.Pool) bool {
	if p.IPIPMode != v3.IPIPModeAlways && p.IPIPMode != v3.IPIPModeCrossSubnet {
		return false
	}
	pp, err := netip.ParsePrefix(p.CIDR)
	return err == nil && pp.Addr().Is4()
}

// computeDesired returns tunl0's desired state, or nil when IPIP is not in
// use on this node (no IPIP pool, or ipipEnabled=false; ipipEnabled=true
// forces it on).
func computeDesired(in *routeinput.Input) *Device {
	enabled := in.AnyPool(InUse)
	dev := &Device{}
	if c := in.Config(); c != nil {
		if c.IPIPEnabled != nil {
			enabled = *c.IPIPEnabled
		}
		if c.IPIPMTU != nil && *c.IPIPMTU > 0 {
			dev.MTU = *c.IPIPMTU
		}
	}
	if !enabled {
		return nil
	}
	if me, ok := in.LocalVTEP(); ok {
		if a, err := netip.ParseAddr(me.IPIPv4Addr); err == nil && a.Is4() {
			dev.Addr = a
		}
		if a, err := netip.ParseAddr(me.ParentIPv4); err == nil && a.Is4() {
			dev.ParentIP = a
		}
	}
	return dev
}
