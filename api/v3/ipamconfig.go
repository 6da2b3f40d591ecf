package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindIPAMConfiguration is the IPAMConfiguration kind.
const KindIPAMConfiguration = "IPAMConfiguration"

// IPAMConfigurationName is the only name Calico accepts for the (singleton)
// IPAMConfiguration resource.
const IPAMConfigurationName = "default"

// IPAMConfiguration is the cluster-wide IPAM behaviour. There is at most one,
// named "default"; without it IPAM behaves as if every field were zero
// (borrowing allowed, no per-host block limit).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type IPAMConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPAMConfigurationSpec `json:"spec,omitempty"`
}

// IPAMConfigurationSpec is the desired IPAM behaviour.
type IPAMConfigurationSpec struct {
	// StrictAffinity forbids borrowing addresses from blocks affine to other
	// hosts (needed e.g. for Windows nodes). Always encoded, even when false.
	StrictAffinity bool `json:"strictAffinity"`
	// MaxBlocksPerHost caps how many blocks one host may claim; 0 = no cap.
	MaxBlocksPerHost int32 `json:"maxBlocksPerHost,omitempty"`
	// AutoAllocateBlocks lets hosts claim new blocks on demand; unset means
	// true (Calico's default). With it false, hosts only use blocks they
	// already hold, or borrow. Newer Calico has this field; the pinned API
	// does not, so it is a pointer and omitted when unset, keeping documents
	// without it byte-identical.
	AutoAllocateBlocks *bool `json:"autoAllocateBlocks,omitempty"`
	// IPCooldownSeconds keeps a released address out of use for this many
	// seconds (its allocation stays in the block marked releasedAt); unset
	// or 0 reuses addresses at once. Newer Calico has this field; omitted
	// when unset.
	IPCooldownSeconds *int32 `json:"ipCooldownSeconds,omitempty"`
}

// IPAMConfigurationList is a list of IPAMConfigurations.
//
// +kubebuilder:object:root=true
type IPAMConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAMConfiguration `json:"items"`
}

// NewIPAMConfiguration returns an empty IPAMConfiguration with its TypeMeta set.
func NewIPAMConfiguration() *IPAMConfiguration {
	return &IPAMConfiguration{TypeMeta: typeMeta(KindIPAMConfiguration)}
}

// NewIPAMConfigurationList returns an empty IPAMConfigurationList with its TypeMeta set.
func NewIPAMConfigurationList() *IPAMConfigurationList {
	return &IPAMConfigurationList{TypeMeta: typeMeta(KindIPAMConfiguration + "List")}
}

// Default does nothing: Calico's defaults (strictAffinity false,
// maxBlocksPerHost 0 = unlimited, autoAllocateBlocks true, no cooldown) are
// what the zero values and unset pointers mean.
func (c *IPAMConfiguration) Default() {}

// Validate checks the singleton name, the block cap and the cooldown.
func (c *IPAMConfiguration) Validate() error {
	v := newValidator(KindIPAMConfiguration, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	if c.Name != "" && c.Name != IPAMConfigurationName {
		v.addf("metadata.name", "%q is not allowed; the IPAM configuration is a singleton named %q", c.Name, IPAMConfigurationName)
	}
	if c.Spec.MaxBlocksPerHost < 0 {
		v.addf("spec.maxBlocksPerHost", "%d is negative; use 0 for no limit or a positive number of blocks", c.Spec.MaxBlocksPerHost)
	}
	if c.Spec.IPCooldownSeconds != nil && *c.Spec.IPCooldownSeconds < 0 {
		v.addf("spec.ipCooldownSeconds", "%d is negative; use 0 (or leave it unset) to reuse released addresses at once", *c.Spec.IPCooldownSeconds)
	}
	return v.result()
}
