package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindTier is the Tier kind.
const KindTier = "Tier"

// Well-known tier names and their fixed orders (Calico v3.30). Tiers are
// evaluated by ascending order; within a tier, policies by order then name;
// traffic no policy in a tier decides gets the tier's default action.
const (
	// DefaultTierName is the tier policies belong to when spec.tier is empty.
	DefaultTierName = "default"
	// AdminNetworkPolicyTierName holds Kubernetes AdminNetworkPolicies.
	AdminNetworkPolicyTierName = "adminnetworkpolicy"
	// BaselineAdminNetworkPolicyTierName holds the BaselineAdminNetworkPolicy.
	BaselineAdminNetworkPolicyTierName = "baselineadminnetworkpolicy"

	// AdminNetworkPolicyTierOrder is the fixed order of the adminnetworkpolicy tier.
	AdminNetworkPolicyTierOrder = float64(1_000)
	// DefaultTierOrder is the fixed order of the default tier.
	DefaultTierOrder = float64(1_000_000)
	// BaselineAdminNetworkPolicyTierOrder is the fixed order of the baselineadminnetworkpolicy tier.
	BaselineAdminNetworkPolicyTierOrder = float64(10_000_000)
)

// Tier is an ordered group of policies with a default action for traffic
// no policy in the tier decides.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type Tier struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TierSpec `json:"spec,omitempty"`
}

// TierSpec is the desired state of a Tier.
type TierSpec struct {
	// Order places the tier: lower orders apply first; no order means last;
	// ties are broken by name.
	Order *float64 `json:"order,omitempty"`
	// DefaultAction is applied to traffic to or from an endpoint selected by
	// some policy in the tier when no rule in the tier matched: Deny
	// (default) or Pass (on to the next tier).
	//
	// +kubebuilder:validation:Enum=Pass;Deny
	DefaultAction *Action `json:"defaultAction,omitempty"`
}

// TierList is a list of Tiers.
//
// +kubebuilder:object:root=true
type TierList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Tier `json:"items"`
}

// NewTier returns an empty Tier with its TypeMeta set.
func NewTier() *Tier { return &Tier{TypeMeta: typeMeta(KindTier)} }

// NewTierList returns an empty TierList with its TypeMeta set.
func NewTierList() *TierList { return &TierList{TypeMeta: typeMeta(KindTier + "List")} }

// wellKnownTierOrder returns the fixed order of a well-known tier.
func wellKnownTierOrder(name string) (float64, bool) {
	switch name {
	case DefaultTierName:
		return DefaultTierOrder, true
	case AdminNetworkPolicyTierName:
		return AdminNetworkPolicyTierOrder, true
	case BaselineAdminNetworkPolicyTierName:
		return BaselineAdminNetworkPolicyTierOrder, true
	}
	return 0, false
}

// Default sets the order of the well-known tiers (default, adminnetworkpolicy,
// baselineadminnetworkpolicy) when unset, and defaultAction Deny.
func (t *Tier) Default() {
	if t.Spec.Order == nil {
		if o, ok := wellKnownTierOrder(t.Name); ok {
			t.Spec.Order = &o
		}
	}
	if t.Spec.DefaultAction == nil {
		a := Deny
		t.Spec.DefaultAction = &a
	}
}
