package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindProfile is the Profile kind.
const KindProfile = "Profile"

// Profile is a named set of rules and labels that endpoints reference by
// name (spec.profiles); its rules apply after all tiers. On Kubernetes,
// Calico derives one per namespace ("kns.<namespace>") and per service
// account ("ksa.<namespace>.<name>").
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type Profile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ProfileSpec `json:"spec,omitempty"`
}

// ProfileSpec is the desired state of a Profile.
type ProfileSpec struct {
	// Ingress is the ordered list of ingress rules.
	Ingress []Rule `json:"ingress,omitempty"`
	// Egress is the ordered list of egress rules.
	Egress []Rule `json:"egress,omitempty"`
	// LabelsToApply are added to every endpoint that uses the profile.
	LabelsToApply map[string]string `json:"labelsToApply,omitempty"`
}

// ProfileList is a list of Profiles.
//
// +kubebuilder:object:root=true
type ProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Profile `json:"items"`
}

// NewProfile returns an empty Profile with its TypeMeta set.
func NewProfile() *Profile { return &Profile{TypeMeta: typeMeta(KindProfile)} }

// NewProfileList returns an empty ProfileList with its TypeMeta set.
func NewProfileList() *ProfileList { return &ProfileList{TypeMeta: typeMeta(KindProfile + "List")} }

// Default does nothing: a Profile has no defaulted fields.
func (p *Profile) Default() {}
