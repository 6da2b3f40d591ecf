package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Network set kinds.
const (
	// KindNetworkSet is the NetworkSet kind.
	KindNetworkSet = "NetworkSet"
	// KindGlobalNetworkSet is the GlobalNetworkSet kind.
	KindGlobalNetworkSet = "GlobalNetworkSet"
)

// NetworkSet is a namespaced, labelled list of CIDRs that rule selectors
// match like endpoints (e.g. "role == 'db-subnets'").
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type NetworkSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec NetworkSetSpec `json:"spec,omitempty"`
}

// NetworkSetSpec is the desired state of a NetworkSet.
type NetworkSetSpec struct {
	// Nets are the set's CIDRs (or single addresses).
	Nets []string `json:"nets,omitempty"`
}

// NetworkSetList is a list of NetworkSets.
//
// +kubebuilder:object:root=true
type NetworkSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkSet `json:"items"`
}

// NewNetworkSet returns an empty NetworkSet with its TypeMeta set.
func NewNetworkSet() *NetworkSet { return &NetworkSet{TypeMeta: typeMeta(KindNetworkSet)} }

// NewNetworkSetList returns an empty NetworkSetList with its TypeMeta set.
func NewNetworkSetList() *NetworkSetList {
	return &NetworkSetList{TypeMeta: typeMeta(KindNetworkSet + "List")}
}

// Default does nothing: a NetworkSet has no defaulted fields.
func (n *NetworkSet) Default() {}

// GlobalNetworkSet is a cluster-wide, labelled list of CIDRs that rule
// selectors match like endpoints.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type GlobalNetworkSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GlobalNetworkSetSpec `json:"spec,omitempty"`
}

// GlobalNetworkSetSpec is the desired state of a GlobalNetworkSet.
type GlobalNetworkSetSpec struct {
	// Nets are the set's CIDRs (or single addresses).
	Nets []string `json:"nets,omitempty"`
}

// GlobalNetworkSetList is a list of GlobalNetworkSets.
//
// +kubebuilder:object:root=true
type GlobalNetworkSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GlobalNetworkSet `json:"items"`
}

// NewGlobalNetworkSet returns an empty GlobalNetworkSet with its TypeMeta set.
func NewGlobalNetworkSet() *GlobalNetworkSet {
	return &GlobalNetworkSet{TypeMeta: typeMeta(KindGlobalNetworkSet)}
}

// NewGlobalNetworkSetList returns an empty GlobalNetworkSetList with its TypeMeta set.
func NewGlobalNetworkSetList() *GlobalNetworkSetList {
	return &GlobalNetworkSetList{TypeMeta: typeMeta(KindGlobalNetworkSet + "List")}
}

// Default does nothing: a GlobalNetworkSet has no defaulted fields.
func (n *GlobalNetworkSet) Default() {}
