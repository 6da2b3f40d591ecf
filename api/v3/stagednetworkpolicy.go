package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindStagedNetworkPolicy is the StagedNetworkPolicy kind.
const KindStagedNetworkPolicy = "StagedNetworkPolicy"

// StagedNetworkPolicy is a NetworkPolicy that is evaluated (for flow logs)
// but not enforced, so its effect can be previewed before it is applied.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type StagedNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec StagedNetworkPolicySpec `json:"spec,omitempty"`
}

// StagedNetworkPolicySpec is NetworkPolicySpec plus the staged action.
type StagedNetworkPolicySpec struct {
	// StagedAction is Set (default when empty), Delete, Learn or Ignore.
	// With Delete every other field except Tier must be empty.
	StagedAction StagedAction `json:"stagedAction,omitempty"`
	// Tier is the tier the policy belongs to (default "default").
	Tier string `json:"tier,omitempty"`
	// Order places the policy within its tier.
	Order *float64 `json:"order,omitempty"`
	// Ingress is the ordered list of ingress rules.
	Ingress []Rule `json:"ingress,omitempty"`
	// Egress is the ordered list of egress rules.
	Egress []Rule `json:"egress,omitempty"`
	// Selector picks the endpoints the policy applies to.
	Selector string `json:"selector,omitempty"`
	// Types says whether the policy applies to ingress, egress or both.
	Types []PolicyType `json:"types,omitempty"`
	// ServiceAccountSelector further restricts the policy by service account.
	ServiceAccountSelector string `json:"serviceAccountSelector,omitempty"`
	// PerformanceHints are hints to the policy engine.
	PerformanceHints []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// StagedNetworkPolicyList is a list of StagedNetworkPolicies.
//
// +kubebuilder:object:root=true
type StagedNetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []StagedNetworkPolicy `json:"items"`
}

// NewStagedNetworkPolicy returns an empty StagedNetworkPolicy with its TypeMeta set.
func NewStagedNetworkPolicy() *StagedNetworkPolicy {
	return &StagedNetworkPolicy{TypeMeta: typeMeta(KindStagedNetworkPolicy)}
}

// NewStagedNetworkPolicyList returns an empty StagedNetworkPolicyList with its TypeMeta set.
func NewStagedNetworkPolicyList() *StagedNetworkPolicyList {
	return &StagedNetworkPolicyList{TypeMeta: typeMeta(KindStagedNetworkPolicy + "List")}
}

// Enforced returns the staged action and the NetworkPolicy this staged
// policy would become (metadata and the shared spec fields copied deeply).
func (s *StagedNetworkPolicy) Enforced() (StagedAction, *NetworkPolicy) {
	c := s.DeepCopy()
	np := NewNetworkPolicy()
	np.ObjectMeta = c.ObjectMeta
	np.Spec = NetworkPolicySpec{
		Tier: c.Spec.Tier, Order: c.Spec.Order, Ingress: c.Spec.Ingress, Egress: c.Spec.Egress,
		Selector: c.Spec.Selector, Types: c.Spec.Types, ServiceAccountSelector: c.Spec.ServiceAccountSelector,
		PerformanceHints: c.Spec.PerformanceHints,
	}
	return s.Spec.StagedAction, np
}
