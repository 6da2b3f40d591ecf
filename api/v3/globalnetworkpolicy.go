package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindGlobalNetworkPolicy is the GlobalNetworkPolicy kind.
const KindGlobalNetworkPolicy = "GlobalNetworkPolicy"

// GlobalNetworkPolicy is a cluster-wide, ordered set of ingress and egress
// rules applied to the workload and host endpoints its selectors pick.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type GlobalNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GlobalNetworkPolicySpec `json:"spec,omitempty"`
}

// GlobalNetworkPolicySpec is the desired state of a GlobalNetworkPolicy.
type GlobalNetworkPolicySpec struct {
	// Tier is the tier the policy belongs to (default "default"). A policy
	// in any other tier must be named "<tier>.<name>".
	Tier string `json:"tier,omitempty"`
	// Order places the policy within its tier: lower orders apply first;
	// no order means last; ties are broken by name.
	Order *float64 `json:"order,omitempty"`
	// Ingress is the ordered list of ingress rules.
	Ingress []Rule `json:"ingress,omitempty"`
	// Egress is the ordered list of egress rules.
	Egress []Rule `json:"egress,omitempty"`
	// Selector picks the endpoints the policy applies to.
	Selector string `json:"selector,omitempty"`
	// Types says whether the policy applies to ingress, egress or both;
	// inferred from the rules when empty.
	Types []PolicyType `json:"types,omitempty"`
	// DoNotTrack applies the rules before connection tracking (raw table)
	// and skips tracking for allowed traffic. Needs ApplyOnForward.
	DoNotTrack bool `json:"doNotTrack,omitempty"`
	// PreDNAT applies the (ingress) rules before DNAT. Needs ApplyOnForward;
	// excludes DoNotTrack and egress rules.
	PreDNAT bool `json:"preDNAT,omitempty"`
	// ApplyOnForward also applies the policy to traffic forwarded through
	// host endpoints, not only to traffic to and from the host.
	ApplyOnForward bool `json:"applyOnForward,omitempty"`
	// ServiceAccountSelector further restricts the policy to pods whose
	// service account matches.
	ServiceAccountSelector string `json:"serviceAccountSelector,omitempty"`
	// NamespaceSelector further restricts the policy to endpoints in
	// matching namespaces.
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// PerformanceHints are hints to the policy engine (never change
	// enforcement); the only hint is AssumeNeededOnEveryNode.
	PerformanceHints []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// GlobalNetworkPolicyList is a list of GlobalNetworkPolicies.
//
// +kubebuilder:object:root=true
type GlobalNetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GlobalNetworkPolicy `json:"items"`
}

// NewGlobalNetworkPolicy returns an empty GlobalNetworkPolicy with its TypeMeta set.
func NewGlobalNetworkPolicy() *GlobalNetworkPolicy {
	return &GlobalNetworkPolicy{TypeMeta: typeMeta(KindGlobalNetworkPolicy)}
}

// NewGlobalNetworkPolicyList returns an empty GlobalNetworkPolicyList with its TypeMeta set.
func NewGlobalNetworkPolicyList() *GlobalNetworkPolicyList {
	return &GlobalNetworkPolicyList{TypeMeta: typeMeta(KindGlobalNetworkPolicy + "List")}
}
