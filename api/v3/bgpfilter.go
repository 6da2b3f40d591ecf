package v3

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindBGPFilter is the BGPFilter kind.
const KindBGPFilter = "BGPFilter"

// BGPFilter is an ordered list of accept/reject rules for routes imported
// from or exported to the BGP peers that reference it (BGPPeer spec.filters).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type BGPFilter struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BGPFilterSpec `json:"spec,omitempty"`
}

// BGPFilterSpec holds the rules per direction and family; the first
// matching rule decides.
type BGPFilterSpec struct {
	// ExportV4 filters IPv4 routes sent to peers.
	ExportV4 []BGPFilterRuleV4 `json:"exportV4,omitempty"`
	// ImportV4 filters IPv4 routes received from peers.
	ImportV4 []BGPFilterRuleV4 `json:"importV4,omitempty"`
	// ExportV6 filters IPv6 routes sent to peers.
	ExportV6 []BGPFilterRuleV6 `json:"exportV6,omitempty"`
	// ImportV6 filters IPv6 routes received from peers.
	ImportV6 []BGPFilterRuleV6 `json:"importV6,omitempty"`
}

// BGPFilterRuleV4 matches IPv4 routes by prefix, source and interface.
type BGPFilterRuleV4 struct {
	// CIDR is the prefix compared with matchOperator.
	CIDR string `json:"cidr,omitempty"`
	// PrefixLength narrows the match to routes with these prefix lengths.
	PrefixLength *BGPFilterPrefixLengthV4 `json:"prefixLength,omitempty"`
	// Source RemotePeers matches only routes learned from BGP peers.
	Source BGPFilterMatchSource `json:"source,omitempty"`
	// Interface matches routes via interfaces whose name matches (globs allowed).
	Interface string `json:"interface,omitempty"`
	// MatchOperator is Equal, NotEqual, In or NotIn (required with cidr).
	MatchOperator BGPFilterMatchOperator `json:"matchOperator,omitempty"`
	// Action is Accept or Reject.
	Action BGPFilterAction `json:"action"`
}

// BGPFilterRuleV6 matches IPv6 routes by prefix, source and interface.
type BGPFilterRuleV6 struct {
	// CIDR is the prefix compared with matchOperator.
	CIDR string `json:"cidr,omitempty"`
	// PrefixLength narrows the match to routes with these prefix lengths.
	PrefixLength *BGPFilterPrefixLengthV6 `json:"prefixLength,omitempty"`
	// Source RemotePeers matches only routes learned from BGP peers.
	Source BGPFilterMatchSource `json:"source,omitempty"`
	// Interface matches routes via interfaces whose name matches (globs allowed).
	Interface string `json:"interface,omitempty"`
	// MatchOperator is Equal, NotEqual, In or NotIn (required with cidr).
	MatchOperator BGPFilterMatchOperator `json:"matchOperator,omitempty"`
	// Action is Accept or Reject.
	Action BGPFilterAction `json:"action"`
}

// BGPFilterPrefixLengthV4 bounds the prefix length of matched IPv4 routes.
type BGPFilterPrefixLengthV4 struct {
	// Min is the shortest prefix length matched (0-32).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=32
	Min *int32 `json:"min,omitempty"`
	// Max is the longest prefix length matched (0-32).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=32
	Max *int32 `json:"max,omitempty"`
}

// BGPFilterPrefixLengthV6 bounds the prefix length of matched IPv6 routes.
type BGPFilterPrefixLengthV6 struct {
	// Min is the shortest prefix length matched (0-128).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=128
	Min *int32 `json:"min,omitempty"`
	// Max is the longest prefix length matched (0-128).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=128
	Max *int32 `json:"max,omitempty"`
}

// BGPFilterMatchSource restricts a rule to routes from a given source.
type BGPFilterMatchSource string

// BGPFilterSourceRemotePeers matches routes learned from BGP peers.
const BGPFilterSourceRemotePeers BGPFilterMatchSource = "RemotePeers"

// BGPFilterMatchOperator compares a route's prefix with the rule's CIDR.
type BGPFilterMatchOperator string

// Match operators.
const (
	MatchOperatorEqual    BGPFilterMatchOperator = "Equal"
	MatchOperatorNotEqual BGPFilterMatchOperator = "NotEqual"
	MatchOperatorIn       BGPFilterMatchOperator = "In"
	MatchOperatorNotIn    BGPFilterMatchOperator = "NotIn"
)

// BGPFilterAction is what a matching rule does.
type BGPFilterAction string

// Filter actions.
const (
	FilterActionAccept BGPFilterAction = "Accept"
	FilterActionReject BGPFilterAction = "Reject"
)

// BGPFilterList is a list of BGPFilters.
//
// +kubebuilder:object:root=true
type BGPFilterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPFilter `json:"items"`
}

// NewBGPFilter returns an empty BGPFilter with its TypeMeta set.
func NewBGPFilter() *BGPFilter { return &BGPFilter{TypeMeta: typeMeta(KindBGPFilter)} }

// NewBGPFilterList returns an empty BGPFilterList with its TypeMeta set.
func NewBGPFilterList() *BGPFilterList {
	return &BGPFilterList{TypeMeta: typeMeta(KindBGPFilter + "List")}
}

// Default does nothing: Calico applies no defaults to BGPFilter.
func (f *BGPFilter) Default() {}

// Validate checks every rule: CIDR of the right family, cidr and
// matchOperator given together, prefix lengths within the family's range,
// not below the CIDR's own length and min <= max, enums and interface globs.
func (f *BGPFilter) Validate() error {
	v := newValidator(KindBGPFilter, &f.ObjectMeta)
	v.name(&f.ObjectMeta, false)
	for i, r := range f.Spec.ExportV4 {
		validateFilterRule(v, indexed("spec.exportV4", i), ipv4Only, r.CIDR, prefixLen(r.PrefixLength), r.Source, r.Interface, r.MatchOperator, r.Action)
	}
	for i, r := range f.Spec.ImportV4 {
		validateFilterRule(v, indexed("spec.importV4", i), ipv4Only, r.CIDR, prefixLen(r.PrefixLength), r.Source, r.Interface, r.MatchOperator, r.Action)
	}
	for i, r := range f.Spec.ExportV6 {
		validateFilterRule(v, indexed("spec.exportV6", i), ipv6Only, r.CIDR, prefixLen6(r.PrefixLength), r.Source, r.Interface, r.MatchOperator, r.Action)
	}
	for i, r := range f.Spec.ImportV6 {
		validateFilterRule(v, indexed("spec.importV6", i), ipv6Only, r.CIDR, prefixLen6(r.PrefixLength), r.Source, r.Interface, r.MatchOperator, r.Action)
	}
	return v.result()
}

// prefixBounds is a family-neutral view of a rule's prefixLength.
type prefixBounds struct{ min, max *int32 }

func prefixLen(p *BGPFilterPrefixLengthV4) prefixBounds {
	if p == nil {
		return prefixBounds{}
	}
	return prefixBounds{p.Min, p.Max}
}

func prefixLen6(p *BGPFilterPrefixLengthV6) prefixBounds {
	if p == nil {
		return prefixBounds{}
	}
	return prefixBounds{p.Min, p.Max}
}

func validateFilterRule(v *validator, f string, fam ipFamily, cidr string, pl prefixBounds,
	src BGPFilterMatchSource, iface string, op BGPFilterMatchOperator, action BGPFilterAction) {
	bits := int32(32)
	if fam == ipv6Only {
		bits = 128
	}
	ones := int32(-1)
	if cidr != "" {
		if n := v.cidrFamily(f+".cidr", cidr, fam); n != nil {
			o, _ := n.Mask.Size()
			ones = int32(o)
		}
		if op == "" {
			v.addf(f+".matchOperator", "is required with cidr; use Equal, NotEqual, In or NotIn")
		}
	} else if op != "" {
		v.addf(f+".cidr", "is required with matchOperator %s; set the prefix to compare with", op)
	}
	if (pl.min != nil || pl.max != nil) && cidr == "" {
		v.addf(f+".prefixLength", "needs cidr; prefix lengths narrow a CIDR match")
	}
	for _, b := range []struct {
		name string
		val  *int32
	}{{"min", pl.min}, {"max", pl.max}} {
		if b.val == nil {
			continue
		}
		switch {
		case *b.val < 0 || *b.val > bits:
			v.addf(f+".prefixLength."+b.name, "%d is out of range; use 0-%d for %s", *b.val, bits, fam)
		case ones >= 0 && *b.val < ones:
			v.addf(f+".prefixLength."+b.name, "%d is shorter than the CIDR's own /%d and can never match; use %d-%d", *b.val, ones, ones, bits)
		}
	}
	if pl.min != nil && pl.max != nil && *pl.min > *pl.max {
		v.addf(f+".prefixLength", "min %d is greater than max %d; swap them", *pl.min, *pl.max)
	}
	v.oneOf(f+".source", string(src), string(BGPFilterSourceRemotePeers))
	if iface != "" && !ignoredIfaceRE.MatchString(iface) {
		v.addf(f+".interface", "%q is not an interface name or glob; use at most 15 characters such as eth* or vxlan.calico", iface)
	}
	v.oneOf(f+".matchOperator", string(op), string(MatchOperatorEqual), string(MatchOperatorNotEqual), string(MatchOperatorIn), string(MatchOperatorNotIn))
	switch action {
	case FilterActionAccept, FilterActionReject:
	case "":
		v.addf(f+".action", "is required; use Accept or Reject")
	default:
		v.addf(f+".action", "%s", fmt.Sprintf("%q is not valid; use Accept or Reject", action))
	}
}
