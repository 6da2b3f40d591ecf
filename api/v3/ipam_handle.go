package v3

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindIPAMHandle is the IPAMHandle kind.
const KindIPAMHandle = "IPAMHandle"

// IPAMHandle groups the addresses allocated under one handle ID (usually one
// pod's network attachment) so they can be released together. IPAM owns
// these; users only read them.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type IPAMHandle struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPAMHandleSpec `json:"spec,omitempty"`
}

// IPAMHandleSpec counts the handle's addresses per block.
type IPAMHandleSpec struct {
	// HandleID is the handle as the caller named it (the resource name is a
	// lower-cased form of it), e.g. "k8s-pod-network.<container-id>".
	HandleID string `json:"handleID"`
	// Block maps a block CIDR to the number of addresses this handle holds in it.
	Block map[string]int `json:"block"`
	// Deleted marks a handle being deleted (see IPAMBlockSpec.Deleted).
	Deleted bool `json:"deleted"`
}

// IPAMHandleList is a list of IPAMHandles.
//
// +kubebuilder:object:root=true
type IPAMHandleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []IPAMHandle `json:"items"`
}

// NewIPAMHandle returns an empty IPAMHandle with its TypeMeta set.
func NewIPAMHandle() *IPAMHandle { return &IPAMHandle{TypeMeta: typeMeta(KindIPAMHandle)} }

// NewIPAMHandleList returns an empty IPAMHandleList with its TypeMeta set.
func NewIPAMHandleList() *IPAMHandleList {
	return &IPAMHandleList{TypeMeta: typeMeta(KindIPAMHandle + "List")}
}

// Default does nothing: IPAM writes complete handles.
func (h *IPAMHandle) Default() {}

// Validate checks the handle ID is set, each key is a block CIDR and each
// count is positive.
func (h *IPAMHandle) Validate() error {
	v := newValidator(KindIPAMHandle, &h.ObjectMeta)
	v.name(&h.ObjectMeta, false)
	if h.Spec.HandleID == "" {
		v.addf("spec.handleID", "is required; set the handle ID the addresses were allocated under")
	}
	for _, cidr := range slices.Sorted(maps.Keys(h.Spec.Block)) {
		n := h.Spec.Block[cidr]
		v.cidr("spec.block["+cidr+"]", cidr)
		if n < 1 {
			v.addf("spec.block["+cidr+"]", "count %d must be at least 1; remove blocks the handle no longer uses", n)
		}
	}
	return v.result()
}
