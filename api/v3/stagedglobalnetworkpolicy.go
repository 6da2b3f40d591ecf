package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindStagedGlobalNetworkPolicy is the StagedGlobalNetworkPolicy kind.
const KindStagedGlobalNetworkPolicy = "StagedGlobalNetworkPolicy"

// StagedGlobalNetworkPolicy is a GlobalNetworkPolicy that is evaluated (for
// flow logs) but not enforced.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type StagedGlobalNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec StagedGlobalNetworkPolicySpec `json:"spec,omitempty"`
}

// StagedGlobalNetworkPolicySpec is GlobalNetworkPolicySpec plus the staged action.
type StagedGlobalNetworkPolicySpec struct {
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
	// DoNotTrack applies the rules before connection tracking.
	DoNotTrack bool `json:"doNotTrack,omitempty"`
	// PreDNAT applies the rules before DNAT.
	PreDNAT bool `json:"preDNAT,omitempty"`
	// ApplyOnForward also applies the policy to forwarded traffic.
	ApplyOnForward bool `json:"applyOnForward,omitempty"`
	// ServiceAccountSelector further restricts the policy by service account.
	ServiceAccountSelector string `json:"serviceAccountSelector,omitempty"`
	// NamespaceSelector further restricts the policy by namespace.
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// PerformanceHints are hints to the policy engine.
	PerformanceHints []PolicyPerformanceHint `json:"performanceHints,omitempty"`
}

// StagedGlobalNetworkPolicyList is a list of StagedGlobalNetworkPolicies.
//
// +kubebuilder:object:root=true
type StagedGlobalNetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []StagedGlobalNetworkPolicy `json:"items"`
}

// NewStagedGlobalNetworkPolicy returns an empty StagedGlobalNetworkPolicy with its TypeMeta set.
func NewStagedGlobalNetworkPolicy() *StagedGlobalNetworkPolicy {
	return &StagedGlobalNetworkPolicy{TypeMeta: typeMeta(KindStagedGlobalNetworkPolicy)}
}

// NewStagedGlobalNetworkPolicyList returns an empty StagedGlobalNetworkPolicyList with its TypeMeta set.
func NewStagedGlobalNetworkPolicyList() *StagedGlobalNetworkPolicyList {
	return &StagedGlobalNetworkPolicyList{TypeMeta: typeMeta(KindStagedGlobalNetworkPolicy + "List")}
}

// Enforced returns the staged action and the GlobalNetworkPolicy this
// staged policy would become (metadata and spec copied deeply).
func (s *StagedGlobalNetworkPolicy) Enforced() (StagedAction, *GlobalNetworkPolicy) {
	c := s.DeepCopy()
	p := NewGlobalNetworkPolicy()
	p.ObjectMeta = c.ObjectMeta
	p.Spec = GlobalNetworkPolicySpec{
		Tier: c.Spec.Tier, Order: c.Spec.Order, Ingress: c.Spec.Ingress, Egress: c.Spec.Egress,
		Selector: c.Spec.Selector, Types: c.Spec.Types, DoNotTrack: c.Spec.DoNotTrack, PreDNAT: c.Spec.PreDNAT,
		ApplyOnForward: c.Spec.ApplyOnForward, ServiceAccountSelector: c.Spec.ServiceAccountSelector,
		NamespaceSelector: c.Spec.NamespaceSelector, PerformanceHints: c.Spec.PerformanceHints,
	}
	return s.Spec.StagedAction, p
}
