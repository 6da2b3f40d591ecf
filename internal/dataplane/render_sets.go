package dataplane

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// ipSet is the membership of one calc IP set as the manager records it.
type ipSet struct {
	typ     calc.IPSetType
	members map[string]struct{}
	// wide counts, per family (index fam/6: 0 for IPv4, 1 for IPv6), the
	// members that are CIDRs wider than one address: a nets set with any
	// is rendered as an interval set.
	wide [2]int
}

// famIndex maps family 4/6 to 0/1.
func famIndex(fam int) int { return fam / 6 }

// add and remove keep wide up to date.
func (s *ipSet) add(m string) {
	if _, ok := s.members[m]; ok {
		return
	}
	s.members[m] = struct{}{}
	if f, w := memberShape(s.typ, m); w {
		s.wide[famIndex(f)]++
	}
}

func (s *ipSet) remove(m string) {
	if _, ok := s.members[m]; !ok {
		return
	}
	delete(s.members, m)
	if f, w := memberShape(s.typ, m); w {
		s.wide[famIndex(f)]--
	}
}

// interval reports whether the set is an interval set in family fam.
func (s *ipSet) interval(fam int) bool {
	return s.typ == calc.IPSetNets && s.wide[famIndex(fam)] > 0
}

// memberShape returns a nets member's family and whether it is wider than
// one address.
func memberShape(typ calc.IPSetType, m string) (fam int, wide bool) {
	if typ != calc.IPSetNets {
		return 0, false
	}
	p, err := netip.ParsePrefix(m)
	if err != nil {
		return familyOf(m), false
	}
	if p.Addr().Is4() {
		return 4, p.Bits() < 32
	}
	return 6, p.Bits() < 128
}

// renderIPSet adds the s4-/s6- pair (s4- alone when fams is [4]) for one
// calc IP set. Nets sets are
// interval sets of addresses (with contained CIDRs dropped: nft refuses
// overlapping intervals); named-port sets are concatenations
// address . protocol . port.
func renderIPSet(t *nft.Table, id string, s *ipSet, fams []int) {
	for _, fam := range fams {
		set := &nft.Set{Name: ipSetName(id, fam, s.interval(fam)), Comment: "calc ip set " + id, Elements: map[string]struct{}{}}
		addrType := "ipv4_addr"
		if fam == 6 {
			addrType = "ipv6_addr"
		}
		switch s.typ {
		case calc.IPSetNetPorts:
			set.Type = addrType + " . inet_proto . inet_service"
			for m := range s.members {
				ip, proto, port, ok := splitNamedPortMember(m)
				if !ok || familyOf(ip) != fam {
					continue
				}
				set.Elements[nft.ElementKey(ip, proto, port)] = struct{}{}
			}
		default:
			set.Type = addrType
			set.Interval = s.interval(fam)
			nets := make([]string, 0, len(s.members))
			for m := range s.members {
				nets = append(nets, m)
			}
			for _, n := range netsOfFamily(nets, fam) {
				set.Elements[nft.ElementKey(n)] = struct{}{}
			}
		}
		t.Sets[set.Name] = set
	}
}

// splitNamedPortMember splits "10.0.0.1,tcp:8080".
func splitNamedPortMember(m string) (ip, proto, port string, ok bool) {
	ip, rest, ok1 := strings.Cut(m, ",")
	proto, port, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return "", "", "", false
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.String()
	}
	return ip, proto, port, true
}

// familyOf is 4 or 6 for an address or CIDR (0 if it is neither).
func familyOf(s string) int {
	if p, err := netip.ParsePrefix(s); err == nil {
		s = p.Addr().String()
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return 0
	case a.Is4():
		return 4
	}
	return 6
}

// collapse sorts prefixes and drops those contained in another one.
func collapse(ps []netip.Prefix) []netip.Prefix {
	sort.Slice(ps, func(i, j int) bool {
		if c := ps[i].Addr().Compare(ps[j].Addr()); c != 0 {
			return c < 0
		}
		return ps[i].Bits() < ps[j].Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Bits() <= p.Bits() && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}
