package calc

import (
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Rule is a policy or profile rule compiled for the dataplane. Every field
// that is set must match (AND); the lists inside one field are ORed, except
// the IP set lists, which are ANDed (a packet must be in every listed set;
// for the Not* lists, in none of them).
//
// Ports and named-port sets on one side are ORed together: a packet matches
// the destination ports when its port is in DstPorts or its (IP, port) is in
// one of DstNamedPortIPSetIDs.
type Rule struct {
	// Action is Allow, Deny, Log or Pass.
	Action v3.Action
	// IPVersion is 4 or 6, or 0 for both.
	IPVersion int
	// Protocol / NotProtocol are IP protocol numbers (nil: any).
	Protocol    *uint8
	NotProtocol *uint8
	// ICMPType / ICMPCode (and negations) match ICMP (nil: any).
	ICMPType, ICMPCode       *int
	NotICMPType, NotICMPCode *int

	SrcNets                 []string
	NotSrcNets              []string
	SrcIPSetIDs             []string
	NotSrcIPSetIDs          []string
	SrcPorts                []PortRange
	NotSrcPorts             []PortRange
	SrcNamedPortIPSetIDs    []string
	NotSrcNamedPortIPSetIDs []string

	DstNets                 []string
	NotDstNets              []string
	DstIPSetIDs             []string
	NotDstIPSetIDs          []string
	DstPorts                []PortRange
	NotDstPorts             []PortRange
	DstNamedPortIPSetIDs    []string
	NotDstNamedPortIPSetIDs []string
}

// PortRange is an inclusive port range (Min == Max for one port).
type PortRange struct {
	Min, Max uint16
}

// denyAll is Calico's stand-in for a profile that endpoints name but that
// does not exist: fail closed in both directions.
var denyAll = []Rule{{Action: v3.Deny}}

// IPSetIDs returns every IP set a rule refers to (for dependency checks).
func (r *Rule) IPSetIDs() []string {
	var ids []string
	for _, l := range [][]string{
		r.SrcIPSetIDs, r.NotSrcIPSetIDs, r.SrcNamedPortIPSetIDs, r.NotSrcNamedPortIPSetIDs,
		r.DstIPSetIDs, r.NotDstIPSetIDs, r.DstNamedPortIPSetIDs, r.NotDstNamedPortIPSetIDs,
	} {
		ids = append(ids, l...)
	}
	return ids
}
