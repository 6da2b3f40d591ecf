package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindNetworkPolicy is the NetworkPolicy kind.
const KindNetworkPolicy = "NetworkPolicy"

// NetworkPolicy is a namespaced, ordered set of ingress and egress rules
// applied to the workload endpoints its selector picks in its namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type NetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec NetworkPolicySpec `json:"spec,omitempty"`
}

// NetworkPolicySpec is the desired state of a NetworkPolicy.
type NetworkPolicySpec struct {
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
	// Selector picks the endpoints the policy applies to (empty or all()
	// means all endpoints in the namespace).
	Selector string `json:"selector,omitempty"`
	// Types says whether the policy applies to ingress, egress or both.
	// When empty it is inferred from the rules (see DefaultPolicyTypes);
	// it is never empty once stored.
	Types []PolicyType `json:"types,omitempty"`
	// ServiceAccountSelector further restricts the policy to pods whose
	// service account matches.
	ServiceAccountSelector string `json:"serviceAccountSelector,omitempty"`
	// PerformanceHints are hints to the policy engine (never change
	// enforcement); the only hint is AssumeNeededOnEveryNode.
	PerformanceHints []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// NetworkPolicyList is a list of NetworkPolicies.
//
// +kubebuilder:object:root=true
type NetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkPolicy `json:"items"`
}

// NewNetworkPolicy returns an empty NetworkPolicy with its TypeMeta set.
func NewNetworkPolicy() *NetworkPolicy { return &NetworkPolicy{TypeMeta: typeMeta(KindNetworkPolicy)} }

// NewNetworkPolicyList returns an empty NetworkPolicyList with its TypeMeta set.
func NewNetworkPolicyList() *NetworkPolicyList {
	return &NetworkPolicyList{TypeMeta: typeMeta(KindNetworkPolicy + "List")}
}
