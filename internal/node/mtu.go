package node

import (
	"net/netip"
	"regexp"
	"strconv"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// Encapsulation overheads Felix subtracts from the host MTU.
const (
	overheadIPIP    = 20
	overheadVXLAN4  = 50
	overheadVXLAN6  = 70
	defaultHostMTU  = 1500
	defaultMTUIface = `^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)`
)

// DetectMTU computes the pod MTU as Felix does: the MTU of the interface
// holding the node's address (without one, the smallest MTU among
// interfaces matching FELIX_MTUIFACEPATTERN, default Felix's pattern; else
// 1500), minus the largest overhead of the encapsulations the enabled pools
// use (IPIP 20, VXLAN 50 over IPv4, 70 over IPv6). FELIX_IPINIPMTU and
// FELIX_VXLANMTU(V6), when set, replace the computed value for their
// encapsulation. It returns the MTU and the interface it came from.
func DetectMTU(n *v3.Node, pools []*v3.IPPool, ifaces []autodetect.Interface, felix FelixOverrides) (int, string) {
	host, from := hostMTU(n, ifaces, felix.Get("MTUIfacePattern"))
	mtu := host
	lower := func(override string, overhead int) {
		m := host - overhead
		if v, err := strconv.Atoi(felix.Get(override)); err == nil && v > 0 {
			m = v
		}
		if m < mtu {
			mtu = m
		}
	}
	for _, p := range pools {
		cidr, err := netip.ParsePrefix(p.Spec.CIDR)
		if err != nil || p.Spec.Disabled {
			continue
		}
		if p.Spec.IPIPMode == v3.IPIPModeAlways || p.Spec.IPIPMode == v3.IPIPModeCrossSubnet {
			lower("IPIPMTU", overheadIPIP)
		}
		if wantsVXLAN(p) {
			if cidr.Addr().Is4() {
				lower("VXLANMTU", overheadVXLAN4)
			} else {
				lower("VXLANMTUV6", overheadVXLAN6)
			}
		}
	}
	return mtu, from
}

// hostMTU finds the host-side MTU the pods' traffic leaves through.
func hostMTU(n *v3.Node, ifaces []autodetect.Interface, pattern string) (int, string) {
	for _, fam := range []int{4, 6} {
		if a := addrOnly(bgpAddr(n, fam)); a.IsValid() {
			if itf, _, ok := autodetect.FindAddr(ifaces, a); ok && itf.MTU > 0 {
				return itf.MTU, itf.Name
			}
		}
	}
	if pattern == "" {
		pattern = defaultMTUIface
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return defaultHostMTU, ""
	}
	best, name := 0, ""
	for _, itf := range ifaces {
		if re.MatchString(itf.Name) && itf.MTU > 0 && (best == 0 || itf.MTU < best) {
			best, name = itf.MTU, itf.Name
		}
	}
	if best == 0 {
		return defaultHostMTU, ""
	}
	return best, name
}
