package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindIPReservation is the IPReservation kind.
const KindIPReservation = "IPReservation"

// IPReservation holds back addresses inside IP pools so that IPAM never hands
// them out (e.g. addresses used by an appliance that lives in the pod range).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type IPReservation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPReservationSpec `json:"spec,omitempty"`
}

// IPReservationSpec lists the reserved ranges.
type IPReservationSpec struct {
	// ReservedCIDRs are CIDRs or single addresses IPAM must skip. They may
	// fall inside or outside any pool; only the part inside a pool matters.
	ReservedCIDRs []string `json:"reservedCIDRs,omitempty"`
}

// IPReservationList is a list of IPReservations.
//
// +kubebuilder:object:root=true
type IPReservationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPReservation `json:"items"`
}

// NewIPReservation returns an empty IPReservation with its TypeMeta set.
func NewIPReservation() *IPReservation {
	return &IPReservation{TypeMeta: typeMeta(KindIPReservation)}
}

// NewIPReservationList returns an empty IPReservationList with its TypeMeta set.
func NewIPReservationList() *IPReservationList {
	return &IPReservationList{TypeMeta: typeMeta(KindIPReservation + "List")}
}

// Default does nothing: Calico applies no defaults to IPReservation.
func (r *IPReservation) Default() {}

// Validate checks the name and that every entry is an address or a network
// CIDR (no host bits).
func (r *IPReservation) Validate() error {
	v := newValidator(KindIPReservation, &r.ObjectMeta)
	v.name(&r.ObjectMeta, false)
	for i, c := range r.Spec.ReservedCIDRs {
		v.cidrOrIP(indexed("spec.reservedCIDRs", i), c, anyFamily)
	}
	return v.result()
}
