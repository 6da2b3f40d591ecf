package autodetect

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// DefaultExcludes are the interface name patterns calico-node never picks
// its address from with first-found and skip-interface: container bridges,
// veths, loopback and the tunnels Calico (and neighbours like flannel) own.
// The list is Calico's DEFAULT_INTERFACES_TO_EXCLUDE.
var DefaultExcludes = []string{
	"^docker.*", "^cbr.*", "^dummy.*",
	"^virbr.*", "^lxcbr.*", "^veth.*", "^lo",
	"^cali.*", "^tunl.*", "^flannel.*", "^kube-ipvs.*", "^cni.*",
	`^vxlan\.calico.*`, `^vxlan-v6\.calico.*`, `^wireguard\.cali.*`, `^wg-v6\.cali.*`,
	"^nodelocaldns.*",
}

// Interface is one host interface and its addresses.
type Interface struct {
	// Name is the interface name, e.g. eth0.
	Name string
	// Index is the kernel's interface index.
	Index int
	// MTU is the interface MTU.
	MTU int
	// Addrs are the interface's addresses with their prefix lengths (host
	// bits kept, e.g. 198.18.0.2/24), in the order the kernel lists them.
	Addrs []netip.Prefix
}

// ListFunc lists the host's interfaces (netlink in production, a fixed list
// in tests).
type ListFunc func() ([]Interface, error)

// Family is an IP version: 4 or 6.
type Family int

// IP families.
const (
	V4 Family = 4
	V6 Family = 6
)

// has reports whether a is of this family.
func (f Family) has(a netip.Addr) bool {
	if f == V4 {
		return a.Is4() || a.Is4In6()
	}
	return a.Is6() && !a.Is4In6()
}

// compilePatterns joins name regexes into one, as Calico does ("(a)|(b)"),
// and names the bad pattern when one does not compile.
func compilePatterns(what string, patterns []string) (*regexp.Regexp, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	for _, p := range patterns {
		if _, err := regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("%s: %q is not a valid regular expression: %v", what, p, err)
		}
	}
	return regexp.Compile("(" + strings.Join(patterns, ")|(") + ")")
}

// Filter returns the interfaces whose names match include (all when nil)
// and do not match exclude, keeping only addresses of family fam. The
// result is in Calico's search order: highest interface index first (Calico
// walks the kernel's list backwards "to maintain behaviour with older
// versions"), which is why first-found prefers the most recently created
// interface.
func Filter(ifaces []Interface, include, exclude *regexp.Regexp, fam Family) []Interface {
	sorted := slices.Clone(ifaces)
	slices.SortStableFunc(sorted, func(a, b Interface) int { return b.Index - a.Index })
	var out []Interface
	for _, itf := range sorted {
		if include != nil && !include.MatchString(itf.Name) {
			continue
		}
		if exclude != nil && exclude.MatchString(itf.Name) {
			continue
		}
		c := itf
		c.Addrs = nil
		for _, a := range itf.Addrs {
			if fam.has(a.Addr()) {
				c.Addrs = append(c.Addrs, a)
			}
		}
		out = append(out, c)
	}
	return out
}

// FindAddr returns the interface holding addr and the address with its
// prefix length, searching every interface.
func FindAddr(ifaces []Interface, addr netip.Addr) (Interface, netip.Prefix, bool) {
	addr = addr.Unmap()
	for _, itf := range ifaces {
		for _, p := range itf.Addrs {
			if p.Addr().Unmap() == addr {
				return itf, p, true
			}
		}
	}
	return Interface{}, netip.Prefix{}, false
}
