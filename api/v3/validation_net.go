package v3

import (
	"net"
	"regexp"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// This file holds the field checks shared by the networking, IPAM and
// configuration kinds. Each records a FieldError naming the field and the fix
// and returns the parsed value (or nil/false) so callers can go on to
// cross-field checks without re-parsing.

// ipFamily selects which address family a check accepts.
type ipFamily int

const (
	anyFamily ipFamily = 0
	ipv4Only  ipFamily = 4
	ipv6Only  ipFamily = 6
)

func (f ipFamily) String() string {
	switch f {
	case ipv4Only:
		return "IPv4"
	case ipv6Only:
		return "IPv6"
	}
	return "IP"
}

func (f ipFamily) matches(ip net.IP) bool {
	switch f {
	case ipv4Only:
		return ip.To4() != nil
	case ipv6Only:
		return ip.To4() == nil
	}
	return true
}

// ip checks s is a plain address of the given family.
func (v *validator) ip(field, s string, fam ipFamily) net.IP {
	ip := net.ParseIP(s)
	if ip == nil || !fam.matches(ip) {
		v.addf(field, "%q is not a valid %s address; write a plain address such as %s", s, fam, exampleIP(fam))
		return nil
	}
	return ip
}

// cidrFamily is cidr restricted to one family.
func (v *validator) cidrFamily(field, s string, fam ipFamily) *net.IPNet {
	n := v.cidr(field, s)
	if n != nil && !fam.matches(n.IP) {
		v.addf(field, "%q is not an %s CIDR; use an %s range such as %s", s, fam, fam, exampleCIDR(fam))
		return nil
	}
	return n
}

// cidrOrIP accepts a network CIDR (no host bits) or a bare address, which
// stands for a single-address CIDR, as Calico's "net" fields do.
func (v *validator) cidrOrIP(field, s string, fam ipFamily) *net.IPNet {
	if !strings.Contains(s, "/") {
		ip := v.ip(field, s, fam)
		if ip == nil {
			return nil
		}
		bits := 128
		if ip.To4() != nil {
			ip, bits = ip.To4(), 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
	}
	return v.cidrFamily(field, s, fam)
}

// addrWithPrefix checks an interface address written as address/prefix with
// host bits allowed (Node spec.bgp.ipv4Address "198.18.0.2/24").
func (v *validator) addrWithPrefix(field, s string, fam ipFamily) net.IP {
	ip, _, err := net.ParseCIDR(s)
	if err != nil || !fam.matches(ip) {
		v.addf(field, "%q is not a valid %s interface address; write address/prefix-length, e.g. %s", s, fam, exampleIfaceAddr(fam))
		return nil
	}
	return ip
}

// selectorExpr checks a selector expression parses.
func (v *validator) selectorExpr(field, s string) {
	if s == "" {
		return
	}
	if _, err := selector.Parse(s); err != nil {
		v.addf(field, "invalid selector %q: %v; see Calico's selector syntax, e.g. has(kubernetes.io/hostname) or role == 'rr'", s, err)
	}
}

// oneOf checks s is one of the allowed spellings (exact match).
func (v *validator) oneOf(field, s string, allowed ...string) {
	if s == "" {
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.addf(field, "%q is not valid; use one of %s", s, strings.Join(allowed, ", "))
}

// oneOfFold is oneOf ignoring case, for the fields Calico matches
// case-insensitively (log levels, iptables actions).
func (v *validator) oneOfFold(field, s string, allowed ...string) {
	if s == "" {
		return
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return
		}
	}
	v.addf(field, "%q is not valid; use one of %s (case-insensitive)", s, strings.Join(allowed, ", "))
}

// logLevels are the severities Calico components accept.
var logLevels = []string{"Trace", "Debug", "Info", "Warning", "Error", "Fatal"}

// logLevel checks a log severity.
func (v *validator) logLevel(field, s string) { v.oneOfFold(field, s, logLevels...) }

// duration checks an optional duration is not negative.
func (v *validator) duration(field string, d *metav1.Duration) {
	if d != nil && d.Duration < 0 {
		v.addf(field, "%s is negative; use a positive duration such as 30s or 5m", d.Duration)
	}
}

// intRange checks an optional integer lies in [lo, hi].
func (v *validator) intRange(field string, n *int, lo, hi int) {
	if n != nil && (*n < lo || *n > hi) {
		v.addf(field, "%d is out of range; use %d-%d", *n, lo, hi)
	}
}

// port checks an optional port number field (1-65535).
func (v *validator) port(field string, n *int) { v.intRange(field, n, 1, 65535) }

// regex checks s compiles as a regular expression.
func (v *validator) regex(field, s string) {
	if s == "" {
		return
	}
	if _, err := regexp.Compile(s); err != nil {
		v.addf(field, "%q is not a valid regular expression: %v", s, err)
	}
}

var ifaceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

// ifaceName checks a Linux interface name (at most 15 characters).
func (v *validator) ifaceName(field, s string) {
	if s != "" && !ifaceNameRE.MatchString(s) {
		v.addf(field, "%q is not a valid interface name; use at most 15 letters, digits, '_', '.' or '-'", s)
	}
}

// parseHostPort splits "ip", "ipv4:port" or "[ipv6]:port" as BGPPeer.peerIP
// is written. ok is false if the text is none of those.
func parseHostPort(s string) (ip net.IP, port int, ok bool) {
	if ip = net.ParseIP(s); ip != nil {
		return ip, 0, true
	}
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return nil, 0, false
	}
	ip = net.ParseIP(host)
	n, err := strconv.Atoi(p)
	if ip == nil || err != nil || n < 1 || n > 65535 {
		return nil, 0, false
	}
	// "[1.2.3.4]:179" and an unbracketed IPv6 with port are not Calico forms.
	if ip.To4() != nil && strings.HasPrefix(s, "[") {
		return nil, 0, false
	}
	return ip, n, true
}

func exampleIP(f ipFamily) string {
	if f == ipv6Only {
		return "fd00::1"
	}
	return "192.0.2.1"
}

func exampleCIDR(f ipFamily) string {
	if f == ipv6Only {
		return "fd00:10:96::/112"
	}
	return "10.96.0.0/12"
}

func exampleIfaceAddr(f ipFamily) string {
	if f == ipv6Only {
		return "fd00::2/64"
	}
	return "198.18.0.2/24"
}

// fitsBits reports whether the decimal string s fits in an unsigned integer
// of the given width.
func fitsBits(s string, bits int) bool {
	_, err := strconv.ParseUint(s, 10, bits)
	return err == nil
}
