package autodetect

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Kind is an autodetection method.
type Kind string

// The methods of IP_AUTODETECTION_METHOD, with Calico's spellings.
const (
	FirstFound           Kind = "first-found"
	CanReach             Kind = "can-reach"
	InterfaceMatch       Kind = "interface"
	SkipInterface        Kind = "skip-interface"
	CIDRMatch            Kind = "cidr"
	KubernetesInternalIP Kind = "kubernetes-internal-ip"
)

// ErrNeedsKubernetes is returned by Detect for kubernetes-internal-ip,
// which reads the Kubernetes Node's InternalIP addresses: the host's
// interfaces alone cannot answer it (calico-node answers it from the Node,
// see package node).
var ErrNeedsKubernetes = errors.New("the kubernetes-internal-ip method reads the Kubernetes Node's InternalIP addresses, which needs the kubernetes datastore (DATASTORE_TYPE=kubernetes); otherwise use first-found, can-reach=<ip>, interface=<regex>, skip-interface=<regex> or cidr=<cidr>")

// Method is a parsed autodetection method.
type Method struct {
	// Kind says which method.
	Kind Kind
	// Patterns are the interface regexes of interface= and skip-interface=.
	Patterns []string
	// CIDRs are the networks of cidr=.
	CIDRs []netip.Prefix
	// Destination is the address or host name of can-reach=.
	Destination string
	include     *regexp.Regexp
	exclude     *regexp.Regexp
}

// String returns the method as it is written in the environment.
func (m Method) String() string {
	switch m.Kind {
	case InterfaceMatch, SkipInterface:
		return string(m.Kind) + "=" + strings.Join(m.Patterns, ",")
	case CIDRMatch:
		s := make([]string, len(m.CIDRs))
		for i, c := range m.CIDRs {
			s[i] = c.String()
		}
		return string(m.Kind) + "=" + strings.Join(s, ",")
	case CanReach:
		return string(m.Kind) + "=" + m.Destination
	}
	return string(m.Kind)
}

// splitList splits Calico's comma-separated lists, allowing spaces around
// the commas.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseMethod parses an IP_AUTODETECTION_METHOD value; "" is first-found.
// Errors say what is wrong and list the valid forms.
func ParseMethod(s string) (Method, error) {
	s = strings.TrimSpace(s)
	const forms = "use first-found, can-reach=<ip or host>, interface=<regex,...>, skip-interface=<regex,...>, cidr=<cidr,...> or kubernetes-internal-ip"
	kind, arg, hasArg := strings.Cut(s, "=")
	m := Method{Kind: Kind(kind)}
	switch m.Kind {
	case "", FirstFound:
		if hasArg {
			return Method{}, fmt.Errorf("%q: first-found takes no argument; %s", s, forms)
		}
		return Method{Kind: FirstFound, exclude: mustCompile(DefaultExcludes)}, nil
	case KubernetesInternalIP:
		if hasArg {
			return Method{}, fmt.Errorf("%q: kubernetes-internal-ip takes no argument; %s", s, forms)
		}
		return m, nil
	case CanReach:
		m.Destination = strings.TrimSpace(arg)
		if m.Destination == "" {
			return Method{}, fmt.Errorf("%q: can-reach needs a destination, e.g. can-reach=198.18.0.1 or can-reach=www.example.com", s)
		}
		return m, nil
	case InterfaceMatch, SkipInterface:
		m.Patterns = splitList(arg)
		if len(m.Patterns) == 0 {
			return Method{}, fmt.Errorf("%q: %s needs at least one interface name regex, e.g. %s=eth0,ens.*", s, kind, kind)
		}
		re, err := compilePatterns(s, m.Patterns)
		if err != nil {
			return Method{}, err
		}
		if m.Kind == InterfaceMatch {
			m.include = re
		} else {
			m.exclude = mustCompile(append(append([]string{}, DefaultExcludes...), m.Patterns...))
		}
		return m, nil
	case CIDRMatch:
		for _, c := range splitList(arg) {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return Method{}, fmt.Errorf("%q: %q is not a CIDR; write networks like cidr=198.18.0.0/15,2001:db8::/64", s, c)
			}
			m.CIDRs = append(m.CIDRs, p.Masked())
		}
		if len(m.CIDRs) == 0 {
			return Method{}, fmt.Errorf("%q: cidr needs at least one network, e.g. cidr=198.18.0.0/15", s)
		}
		return m, nil
	}
	return Method{}, fmt.Errorf("%q is not an autodetection method; %s", s, forms)
}

// mustCompile compiles patterns known to be valid.
func mustCompile(patterns []string) *regexp.Regexp {
	re, err := compilePatterns("built-in patterns", patterns)
	if err != nil {
		panic(err) // programmer error: DefaultExcludes or checked user patterns
	}
	return re
}

// ReachFunc returns the local source address the kernel would use to send
// to dest (an IP or host name) for family fam.
type ReachFunc func(dest string, fam Family) (netip.Addr, error)

// Result is a detected node address.
type Result struct {
	// Interface is the name of the interface holding the address.
	Interface string
	// Addr is the address with its interface prefix length (e.g. 198.18.0.2/24).
	Addr netip.Prefix
}

// Detect runs the method for one family over the interfaces list returns;
// reach is used by can-reach only. The error says what was searched.
func (m Method) Detect(fam Family, list ListFunc, reach ReachFunc) (Result, error) {
	if m.Kind == KubernetesInternalIP {
		return Result{}, ErrNeedsKubernetes
	}
	ifaces, err := list()
	if err != nil {
		return Result{}, err
	}
	if m.Kind == CanReach {
		return detectByReach(m.Destination, fam, ifaces, reach)
	}
	if m.include == nil && m.exclude == nil && (m.Kind == FirstFound || m.Kind == "") {
		m.exclude = mustCompile(DefaultExcludes)
	}
	cands := Filter(ifaces, m.include, m.exclude, fam)
	for _, itf := range cands {
		for _, a := range itf.Addrs {
			if a.Addr().IsGlobalUnicast() && matchCIDRs(a.Addr(), m.CIDRs) {
				return Result{Interface: itf.Name, Addr: a}, nil
			}
		}
	}
	names := make([]string, len(cands))
	for i, c := range cands {
		names[i] = c.Name
	}
	if len(cands) == 0 {
		return Result{}, fmt.Errorf("autodetect IPv%d with %s: no interface qualifies (searched %d interfaces); choose another method or set the address explicitly", fam, m, len(ifaces))
	}
	return Result{}, fmt.Errorf("autodetect IPv%d with %s: no global unicast IPv%d address on %s; choose another method or set the address explicitly", fam, m, fam, strings.Join(names, ", "))
}

// matchCIDRs reports whether a is inside one of cidrs (always, when none).
func matchCIDRs(a netip.Addr, cidrs []netip.Prefix) bool {
	if len(cidrs) == 0 {
		return true
	}
	for _, c := range cidrs {
		if c.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// detectByReach asks the kernel which source address reaches dest and
// returns it with the prefix length of the interface holding it.
func detectByReach(dest string, fam Family, ifaces []Interface, reach ReachFunc) (Result, error) {
	src, err := reach(dest, fam)
	if err != nil {
		return Result{}, fmt.Errorf("autodetect IPv%d with can-reach=%s: %w; check the destination is routable from this host or choose another method", fam, dest, err)
	}
	itf, p, ok := FindAddr(ifaces, src)
	if !ok {
		return Result{}, fmt.Errorf("autodetect IPv%d with can-reach=%s: the source address %s does not match any address on the local interfaces", fam, dest, src)
	}
	return Result{Interface: itf.Name, Addr: p}, nil
}
