package dataplane

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// Packet-mark bits (Calico's defaults inside its 0xffff0000 mask): a policy
// or profile chain that allows a packet sets markAccept and returns; Pass
// sets markPass and returns, skipping the rest of the tier.
const (
	markAccept uint32 = 0x10000
	markPass   uint32 = 0x20000
)

// ruleRenderer turns calc rules into nft rule texts.
type ruleRenderer struct {
	logPrefix string
	// interval says whether a calc IP set is an interval set in a family
	// (see ipSetName); nil means never.
	interval func(id string, fam int) bool
	// families are the IP families rendered (PolicyManager.families).
	families []int
}

// setName is the nft set for a calc nets IP set in a family.
func (rr ruleRenderer) setName(id string, fam int) string {
	return ipSetName(id, fam, rr.interval != nil && rr.interval(id, fam))
}

// render returns the nft rules (text only) for one calc rule. A rule that
// mixes IPv4 and IPv6 matches becomes one rule per family; ORed port
// alternatives (ports and named-port sets on one side) become one rule per
// alternative; a rule that cannot match in any family renders to nothing.
func (rr ruleRenderer) render(r *calc.Rule) []string {
	action := rr.action(r.Action)
	var out []string
	for _, fam := range ruleFamilies(r) {
		if fam != 0 && !slices.Contains(rr.families, fam) {
			continue
		}
		base, ok := rr.familyMatches(r, fam)
		if !ok {
			continue
		}
		srcAlts := portAlternatives(r.SrcPorts, r.SrcNamedPortIPSetIDs, fam, "saddr", "sport")
		dstAlts := portAlternatives(r.DstPorts, r.DstNamedPortIPSetIDs, fam, "daddr", "dport")
		for _, s := range srcAlts {
			for _, d := range dstAlts {
				parts := append([]string{}, base...)
				if s != "" {
					parts = append(parts, s)
				}
				if d != "" {
					parts = append(parts, d)
				}
				parts = append(parts, notPortMatches(r.NotSrcPorts, r.NotSrcNamedPortIPSetIDs, fam, "saddr", "sport")...)
				parts = append(parts, notPortMatches(r.NotDstPorts, r.NotDstNamedPortIPSetIDs, fam, "daddr", "dport")...)
				parts = append(parts, action)
				out = append(out, strings.Join(parts, " "))
			}
		}
	}
	return out
}

// action renders a rule action; Log continues to the next rule.
func (rr ruleRenderer) action(a v3.Action) string {
	switch a {
	case v3.Allow:
		return fmt.Sprintf("counter meta mark set meta mark | 0x%x return", markAccept)
	case v3.Pass:
		return fmt.Sprintf("counter meta mark set meta mark | 0x%x return", markPass)
	case v3.Log:
		return fmt.Sprintf("counter log prefix %q", rr.logPrefix+": ")
	default: // Deny; calc only emits the four actions.
		return "counter drop"
	}
}

// ruleFamilies lists the IP families a rule is rendered for: 0 alone when
// nothing in it depends on the family.
func ruleFamilies(r *calc.Rule) []int {
	famSpecific := r.IPVersion != 0 || r.ICMPType != nil || r.ICMPCode != nil || r.NotICMPType != nil || r.NotICMPCode != nil
	for _, l := range [][]string{r.SrcNets, r.NotSrcNets, r.DstNets, r.NotDstNets, r.IPSetIDs()} {
		if len(l) > 0 {
			famSpecific = true
		}
	}
	if r.Protocol != nil && (*r.Protocol == 1 || *r.Protocol == 58) {
		famSpecific = true
	}
	if !famSpecific {
		return []int{0}
	}
	var fams []int
	for _, f := range []int{4, 6} {
		if r.IPVersion != 0 && r.IPVersion != f {
			continue
		}
		if r.Protocol != nil && (*r.Protocol == 1 && f == 6 || *r.Protocol == 58 && f == 4) {
			continue
		}
		fams = append(fams, f)
	}
	return fams
}

// familyMatches renders everything but ports and the action for family fam
// (0: family-independent). ok is false when the rule cannot match in fam
// (its positive nets are all of the other family).
func (rr ruleRenderer) familyMatches(r *calc.Rule, fam int) (parts []string, ok bool) {
	ipKw, icmpKw := "ip", "icmp"
	switch fam {
	case 4:
		parts = append(parts, "meta nfproto ipv4")
	case 6:
		ipKw, icmpKw = "ip6", "icmpv6"
		parts = append(parts, "meta nfproto ipv6")
	}
	if r.Protocol != nil {
		parts = append(parts, "meta l4proto "+strconv.Itoa(int(*r.Protocol)))
	}
	if r.NotProtocol != nil {
		parts = append(parts, "meta l4proto != "+strconv.Itoa(int(*r.NotProtocol)))
	}
	if r.ICMPType != nil {
		parts = append(parts, fmt.Sprintf("%s type %d", icmpKw, *r.ICMPType))
	}
	if r.ICMPCode != nil {
		parts = append(parts, fmt.Sprintf("%s code %d", icmpKw, *r.ICMPCode))
	}
	switch {
	case r.NotICMPType != nil && r.NotICMPCode != nil:
		// Calico negates the pair: not (this type with this code).
		parts = append(parts, fmt.Sprintf("%s type . %s code != { %d . %d }", icmpKw, icmpKw, *r.NotICMPType, *r.NotICMPCode))
	case r.NotICMPType != nil:
		parts = append(parts, fmt.Sprintf("%s type != %d", icmpKw, *r.NotICMPType))
	}
	for _, side := range []struct {
		dir               string
		nets, notNets     []string
		setIDs, notSetIDs []string
	}{
		{"saddr", r.SrcNets, r.NotSrcNets, r.SrcIPSetIDs, r.NotSrcIPSetIDs},
		{"daddr", r.DstNets, r.NotDstNets, r.DstIPSetIDs, r.NotDstIPSetIDs},
	} {
		if len(side.nets) > 0 {
			nets := netsOfFamily(side.nets, fam)
			if len(nets) == 0 {
				return nil, false
			}
			parts = append(parts, fmt.Sprintf("%s %s %s", ipKw, side.dir, literalSet(nets)))
		}
		if nets := netsOfFamily(side.notNets, fam); len(nets) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s != %s", ipKw, side.dir, literalSet(nets)))
		}
		for _, id := range side.setIDs {
			parts = append(parts, fmt.Sprintf("%s %s @%s", ipKw, side.dir, rr.setName(id, fam)))
		}
		for _, id := range side.notSetIDs {
			parts = append(parts, fmt.Sprintf("%s %s != @%s", ipKw, side.dir, rr.setName(id, fam)))
		}
	}
	return parts, true
}

// portAlternatives returns the ORed alternatives for one side's ports: the
// numeric ports as one match, plus one match per named-port set. [""] means
// no port constraint.
func portAlternatives(ports []calc.PortRange, namedIDs []string, fam int, addrDir, portDir string) []string {
	var alts []string
	if len(ports) > 0 {
		alts = append(alts, fmt.Sprintf("th %s %s", portDir, portSet(ports)))
	}
	for _, id := range namedIDs {
		alts = append(alts, namedPortMatch(id, fam, addrDir, portDir, false))
	}
	if len(alts) == 0 {
		return []string{""}
	}
	return alts
}

// notPortMatches are the ANDed negative port matches of one side.
func notPortMatches(ports []calc.PortRange, namedIDs []string, fam int, addrDir, portDir string) []string {
	var out []string
	if len(ports) > 0 {
		out = append(out, fmt.Sprintf("th %s != %s", portDir, portSet(ports)))
	}
	for _, id := range namedIDs {
		out = append(out, namedPortMatch(id, fam, addrDir, portDir, true))
	}
	return out
}

// namedPortMatch looks (address, protocol, port) up in a named-port set.
// A family-independent rule (fam 0) cannot carry one: calc rules with
// named ports always have IP set IDs, which makes them family-specific.
func namedPortMatch(id string, fam int, addrDir, portDir string, negate bool) string {
	ipKw := "ip"
	if fam == 6 {
		ipKw = "ip6"
	}
	op := ""
	if negate {
		op = "!= "
	}
	return fmt.Sprintf("%s %s . meta l4proto . th %s %s@%s", ipKw, addrDir, portDir, op, ipSetName(id, fam, false))
}

// portSet renders ports as one value, a range, or an anonymous set.
func portSet(ports []calc.PortRange) string {
	items := make([]string, len(ports))
	for i, p := range ports {
		if p.Min == p.Max {
			items[i] = strconv.Itoa(int(p.Min))
		} else {
			items[i] = fmt.Sprintf("%d-%d", p.Min, p.Max)
		}
	}
	if len(items) == 1 {
		return items[0]
	}
	return "{ " + strings.Join(items, ", ") + " }"
}

// literalSet renders CIDRs as one value or an anonymous set.
func literalSet(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return "{ " + strings.Join(items, ", ") + " }"
}

// netsOfFamily returns the CIDRs of family fam (all for fam 0), without
// those another one contains (nft refuses overlapping intervals).
func netsOfFamily(nets []string, fam int) []string {
	var ps []netip.Prefix
	for _, n := range nets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			continue // calc only passes canonical CIDRs
		}
		if fam == 4 && !p.Addr().Is4() || fam == 6 && !p.Addr().Is6() {
			continue
		}
		ps = append(ps, p.Masked())
	}
	var out []string
	for _, p := range collapse(ps) {
		out = append(out, p.String())
	}
	return out
}
