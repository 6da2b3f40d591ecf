package calc

import (
	"fmt"
	"strings"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// compiledRules is a rule list compiled for the dataplane together with the
// IP sets it needs (one entry per use, so reference counts balance).
type compiledRules struct {
	rules []Rule
	sets  []setSpec
}

// compileRules compiles a policy's or profile's rules; ns is the policy's
// namespace ("" for global policies and profiles). Rules that cannot be
// compiled are dropped and reported in the returned warnings; a rule that
// can never match (a Kubernetes Service match, which needs service data
// the graph does not have) is dropped as well.
func compileRules(rules []v3.Rule, ns string) (compiledRules, []string) {
	var out compiledRules
	var warnings []string
	for i := range rules {
		r, sets, err := compileRule(&rules[i], ns)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("rule %d: %v", i, err))
			continue
		}
		if r == nil {
			continue
		}
		out.rules = append(out.rules, *r)
		out.sets = append(out.sets, sets...)
	}
	return out, warnings
}

// compileRule compiles one rule (nil when it can never match).
func compileRule(in *v3.Rule, ns string) (*Rule, []setSpec, error) {
	if in.Source.Services != nil || in.Destination.Services != nil {
		return nil, nil, nil
	}
	r := &Rule{Action: in.Action}
	switch in.Action {
	case v3.Allow, v3.Deny, v3.Log, v3.Pass:
	default:
		return nil, nil, fmt.Errorf("action %q is not Allow, Deny, Log or Pass", in.Action)
	}
	if in.IPVersion != nil {
		r.IPVersion = *in.IPVersion
	}
	var protoName string
	if in.Protocol != nil {
		n, err := protocolNumber(*in.Protocol)
		if err != nil {
			return nil, nil, fmt.Errorf("protocol: %w", err)
		}
		r.Protocol = &n
		protoName = portProtoName(n)
	}
	if in.NotProtocol != nil {
		n, err := protocolNumber(*in.NotProtocol)
		if err != nil {
			return nil, nil, fmt.Errorf("notProtocol: %w", err)
		}
		r.NotProtocol = &n
	}
	if in.ICMP != nil {
		r.ICMPType, r.ICMPCode = in.ICMP.Type, in.ICMP.Code
	}
	if in.NotICMP != nil {
		r.NotICMPType, r.NotICMPCode = in.NotICMP.Type, in.NotICMP.Code
	}
	var sets []setSpec
	src, err := compileSide(&in.Source, ns, protoName, &sets)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	dst, err := compileSide(&in.Destination, ns, protoName, &sets)
	if err != nil {
		return nil, nil, fmt.Errorf("destination: %w", err)
	}
	r.SrcNets, r.NotSrcNets, r.SrcIPSetIDs, r.NotSrcIPSetIDs = src.nets, src.notNets, src.sets, src.notSets
	r.SrcPorts, r.NotSrcPorts, r.SrcNamedPortIPSetIDs, r.NotSrcNamedPortIPSetIDs = src.ports, src.notPorts, src.named, src.notNamed
	r.DstNets, r.NotDstNets, r.DstIPSetIDs, r.NotDstIPSetIDs = dst.nets, dst.notNets, dst.sets, dst.notSets
	r.DstPorts, r.NotDstPorts, r.DstNamedPortIPSetIDs, r.NotDstNamedPortIPSetIDs = dst.ports, dst.notPorts, dst.named, dst.notNamed
	return r, sets, nil
}

// side is one compiled EntityRule.
type side struct {
	nets, notNets   []string
	sets, notSets   []string
	ports, notPorts []PortRange
	named, notNamed []string
}

func compileSide(er *v3.EntityRule, ns, proto string, sets *[]setSpec) (side, error) {
	var s side
	var bad []string
	s.nets, _, bad = canonicalNets(er.Nets)
	if len(bad) > 0 {
		return s, fmt.Errorf("nets %v are not CIDRs", bad)
	}
	s.notNets, _, bad = canonicalNets(er.NotNets)
	if len(bad) > 0 {
		return s, fmt.Errorf("notNets %v are not CIDRs", bad)
	}
	selStr, err := entitySelector(er, ns)
	if err != nil {
		return s, err
	}
	var sel *selector.Selector
	if selStr != "" {
		if sel, err = selector.Parse(selStr); err != nil {
			return s, fmt.Errorf("selector: %w", err)
		}
		spec := selectorSetSpec(sel)
		*sets = append(*sets, spec)
		s.sets = append(s.sets, spec.id)
	}
	if er.NotSelector != "" {
		notSel, err := selector.Parse(er.NotSelector)
		if err != nil {
			return s, fmt.Errorf("notSelector: %w", err)
		}
		spec := selectorSetSpec(notSel)
		*sets = append(*sets, spec)
		s.notSets = append(s.notSets, spec.id)
	}
	// A named port is looked up on the endpoints the side's selector
	// matches, or on every endpoint when there is none.
	portSel := sel
	if portSel == nil {
		portSel = allSelector
	}
	var perr error
	s.ports, s.named, perr = compilePorts(er.Ports, portSel, proto, sets)
	if perr != nil {
		return s, fmt.Errorf("ports: %w", perr)
	}
	s.notPorts, s.notNamed, perr = compilePorts(er.NotPorts, portSel, proto, sets)
	if perr != nil {
		return s, fmt.Errorf("notPorts: %w", perr)
	}
	return s, nil
}

func compilePorts(ports []numorstring.Port, sel *selector.Selector, proto string, sets *[]setSpec) ([]PortRange, []string, error) {
	var ranges []PortRange
	var named []string
	for _, p := range ports {
		if p.PortName == "" {
			ranges = append(ranges, PortRange{Min: p.MinPort, Max: p.MaxPort})
			continue
		}
		if proto == "" {
			return nil, nil, fmt.Errorf("named port %q needs the rule's protocol to be TCP, UDP or SCTP", p.PortName)
		}
		spec := namedPortSetSpec(sel, proto, p.PortName)
		*sets = append(*sets, spec)
		named = append(named, spec.id)
	}
	return ranges, named, nil
}

// allSelector is all(), parsed once.
var allSelector = selector.MustParse("all()")

// protocolNumber returns the IP protocol number of a rule protocol.
func protocolNumber(p numorstring.Protocol) (uint8, error) {
	if n, err := p.NumValue(); err == nil {
		return n, nil
	}
	switch strings.ToLower(p.StrVal) {
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "icmpv6":
		return 58, nil
	case "sctp":
		return 132, nil
	case "udplite":
		return 136, nil
	}
	return 0, fmt.Errorf("%q is not a protocol name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite) or number", p.StrVal)
}

// portProtoName names a protocol that has ports, as named-port members
// spell it ("" for protocols without ports).
func portProtoName(n uint8) string {
	switch n {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	}
	return ""
}
