package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindBlockAffinity is the BlockAffinity kind.
const KindBlockAffinity = "BlockAffinity"

// BlockAffinity records that a host has claimed (or is claiming, or
// releasing) a block. IPAM owns these; users only read them.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type BlockAffinity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BlockAffinitySpec `json:"spec,omitempty"`
}

// BlockAffinityState is the claim's life-cycle state.
type BlockAffinityState string

// Block affinity states, spelled as Calico spells them.
const (
	StatePending         BlockAffinityState = "pending"
	StateConfirmed       BlockAffinityState = "confirmed"
	StatePendingDeletion BlockAffinityState = "pendingDeletion"
)

// BlockAffinitySpec says which node holds which block, and how far along
// the claim is.
type BlockAffinitySpec struct {
	// State is pending (claim written, block not yet), confirmed, or
	// pendingDeletion (release in progress).
	State BlockAffinityState `json:"state"`
	// Node is the Calico node name holding the affinity.
	Node string `json:"node"`
	// CIDR is the block's range.
	CIDR string `json:"cidr"`
	// Deleted marks an affinity being deleted (see IPAMBlockSpec.Deleted).
	Deleted bool `json:"deleted,omitempty"`
}

// BlockAffinityList is a list of BlockAffinities.
//
// +kubebuilder:object:root=true
type BlockAffinityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []BlockAffinity `json:"items"`
}

// NewBlockAffinity returns an empty BlockAffinity with its TypeMeta set.
func NewBlockAffinity() *BlockAffinity {
	return &BlockAffinity{TypeMeta: typeMeta(KindBlockAffinity)}
}

// NewBlockAffinityList returns an empty BlockAffinityList with its TypeMeta set.
func NewBlockAffinityList() *BlockAffinityList {
	return &BlockAffinityList{TypeMeta: typeMeta(KindBlockAffinity + "List")}
}

// Default does nothing: IPAM writes complete affinities.
func (a *BlockAffinity) Default() {}

// Validate checks the state, node and CIDR.
func (a *BlockAffinity) Validate() error {
	v := newValidator(KindBlockAffinity, &a.ObjectMeta)
	v.name(&a.ObjectMeta, false)
	switch a.Spec.State {
	case StatePending, StateConfirmed, StatePendingDeletion:
	case "":
		v.addf("spec.state", "is required; use pending, confirmed or pendingDeletion")
	default:
		v.addf("spec.state", "%q is not valid; use pending, confirmed or pendingDeletion", a.Spec.State)
	}
	if a.Spec.Node == "" {
		v.addf("spec.node", "is required; set the name of the node holding the block")
	} else if !dns1123Subdomain.MatchString(a.Spec.Node) {
		v.addf("spec.node", "%q is not a valid node name; use a DNS-1123 subdomain", a.Spec.Node)
	}
	v.cidr("spec.cidr", a.Spec.CIDR)
	return v.result()
}
