package lab

import (
	"fmt"
	"net/netip"
)

// IPv6 addressing of a dual-stack lab (Topology.IPv6). The fabric's IPv6
// addresses are derived from its IPv4 ones, so a topology names each
// subnet and node address once: the IPv4 address fills the last 32 bits of
// fd00:198:18::/64 (a ULA range that never leaves the lab), and the prefix
// grows by 96 bits. 198.18.1.0/24 is fd00:198:18::c612:100/120, its gateway
// 198.18.1.1 is fd00:198:18::c612:101, a node at 198.18.1.2 is
// fd00:198:18::c612:102. Distinct IPv4 subnets give distinct IPv6 ones.
const (
	// FabricRange6 holds every IPv6 address of the fabric.
	FabricRange6 = "fd00:198:18::/64"
	// DefaultPool6CIDR is the IPv6 pool of a dual-stack lab
	// (CALICO_IPV6POOL_CIDR); calico-node's default block size /122
	// applies unless pool6.blockSize says otherwise.
	DefaultPool6CIDR = "fd00:10:244::/64"
	// DefaultPool6VXLANMode is CALICO_IPV6POOL_VXLAN's default, Calico's:
	// IPv6 pod routes come from BGP.
	DefaultPool6VXLANMode = "Never"
)

// fabric6 is the IPv6 twin of a fabric IPv4 address.
func fabric6(a netip.Addr) netip.Addr {
	b := netip.MustParsePrefix(FabricRange6).Addr().As16()
	v4 := a.As4()
	copy(b[12:], v4[:])
	return netip.AddrFrom16(b)
}

// CIDR6 is the subnet's IPv6 twin, e.g. fd00:198:18::c612:100/120 for
// 198.18.1.0/24.
func (s Subnet) CIDR6() netip.Prefix {
	p := netip.MustParsePrefix(s.CIDR)
	return netip.PrefixFrom(fabric6(p.Addr()), 96+p.Bits())
}

// Gateway6 is the fabric's IPv6 address on the subnet.
func (s Subnet) Gateway6() netip.Addr { return fabric6(s.Gateway()) }

// Address6 is the IPv6 twin of a host address on the fabric (a node's or
// external host's eth0), e.g. fd00:198:18::c612:102 for 198.18.1.2.
func Address6(address string) string { return fabric6(netip.MustParseAddr(address)).String() }

// resolveIPv6 fills the IPv6 pool's defaults of a dual-stack topology and
// checks it; a pool6 without ipv6: true is refused rather than ignored.
func (t *Topology) resolveIPv6(add func(string, ...any)) {
	if !t.IPv6 {
		if t.Pool6 != (Pool{}) {
			add("pool6 is set but ipv6 is not true; add ipv6: true for a dual-stack lab")
		}
		return
	}
	if t.Pool6.CIDR == "" {
		t.Pool6.CIDR = DefaultPool6CIDR
	}
	if t.Pool6.VXLANMode == "" {
		t.Pool6.VXLANMode = DefaultPool6VXLANMode
	}
	if t.Pool6.IPIPMode == "" {
		t.Pool6.IPIPMode = DefaultIPIPMode
	}
	if p, err := netip.ParsePrefix(t.Pool6.CIDR); err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		add("pool6.cidr %q is not an IPv6 CIDR; use e.g. %s", t.Pool6.CIDR, DefaultPool6CIDR)
	} else if p.Overlaps(netip.MustParsePrefix(FabricRange6)) {
		add("pool6.cidr %s overlaps the fabric's %s; use e.g. %s", t.Pool6.CIDR, FabricRange6, DefaultPool6CIDR)
	}
	switch t.Pool6.VXLANMode {
	case "Always", "CrossSubnet", "Never":
	default:
		add("pool6.vxlanMode %q: use Always, CrossSubnet or Never", t.Pool6.VXLANMode)
	}
	if t.Pool6.IPIPMode != "Never" {
		add("pool6.ipipMode %q: IPIP carries IPv4 only; use Never (or omit it)", t.Pool6.IPIPMode)
	}
	if bs := t.Pool6.BlockSize; bs != 0 && (bs < 116 || bs > 128) {
		add("pool6.blockSize %d: use 116 to 128 (calico-node's default is 122)", bs)
	}
}

// ipv6NodeEnv is what a dual-stack node adds to calico-node's environment:
// the knobs a Calico user sets for dual stack (IP6, its autodetection,
// the IPv6 pool, FELIX_IPV6SUPPORT=true).
func (t *Topology) ipv6NodeEnv(n Node, sub Subnet, vars map[string]string) {
	vars["FELIX_IPV6SUPPORT"] = "true"
	vars["CALICO_IPV6POOL_CIDR"] = t.Pool6.CIDR
	vars["CALICO_IPV6POOL_VXLAN"] = t.Pool6.VXLANMode
	if t.Pool6.BlockSize != 0 {
		vars["CALICO_IPV6POOL_BLOCK_SIZE"] = fmt.Sprint(t.Pool6.BlockSize)
	}
	if t.Pool6.NATOutgoing != nil {
		vars["CALICO_IPV6POOL_NAT_OUTGOING"] = fmt.Sprint(*t.Pool6.NATOutgoing)
	}
	if t.NodeIP == NodeIPExplicit {
		vars["IP6"] = fmt.Sprintf("%s/%d", Address6(n.Address), sub.CIDR6().Bits())
	} else {
		vars["IP6"] = "autodetect"
		vars["IP6_AUTODETECTION_METHOD"] = "first-found"
	}
}
