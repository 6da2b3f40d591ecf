package ipip

import (
	"net/netip"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
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

// input is what the manager has recorded from calc updates.
type input struct {
	node   string
	vteps  map[string]calc.VTEP
	pools  map[string]calc.Pool
	config *v3.FelixConfigurationSpec
}

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
func computeDesired(in input) *Device {
	enabled := false
	for _, p := range in.pools {
		enabled = enabled || InUse(p)
	}
	dev := &Device{}
	if c := in.config; c != nil {
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
	if me, ok := in.vteps[in.node]; ok {
		if a, err := netip.ParseAddr(me.IPIPv4Addr); err == nil && a.Is4() {
			dev.Addr = a
		}
		if a, err := netip.ParseAddr(me.ParentIPv4); err == nil && a.Is4() {
			dev.ParentIP = a
		}
	}
	return dev
}
