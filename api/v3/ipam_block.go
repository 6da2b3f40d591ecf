package v3

import (
	"math/big"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindIPAMBlock is the IPAMBlock kind.
const KindIPAMBlock = "IPAMBlock"

// IPAMBlock is one block of a pool: which of its addresses are allocated, to
// whom, and which host it is affine to. IPAM owns blocks; users only read
// them. Every write is compare-and-swap on the resource revision, and
// sequenceNumber protects a release against a concurrent reallocation.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type IPAMBlock struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPAMBlockSpec `json:"spec,omitempty"`
}

// IPAMBlockSpec is the allocation state of one block. Several fields are
// encoded even when empty, as Calico encodes them.
type IPAMBlockSpec struct {
	// CIDR is the block's range, e.g. 10.244.3.64/26.
	CIDR string `json:"cidr"`
	// Affinity is "host:<node>" (or "virtual:<name>") for an affine block,
	// unset for a block nobody claims.
	Affinity *string `json:"affinity,omitempty"`
	// AffinityClaimTime is when the current affinity was claimed.
	AffinityClaimTime *metav1.Time `json:"affinityClaimTime,omitempty"`
	// Allocations has one entry per address (ordinal) in the block: nil if
	// free, else an index into Attributes.
	Allocations []*int `json:"allocations"`
	// Unallocated lists the free ordinals in the order they will be handed out.
	Unallocated []int `json:"unallocated"`
	// Attributes holds the owner of each allocation (handle and metadata).
	Attributes []AllocationAttribute `json:"attributes"`
	// SequenceNumber increases on every write of the block.
	SequenceNumber uint64 `json:"sequenceNumber"`
	// SequenceNumberForAllocation maps an ordinal (as a decimal string) to
	// the block's sequence number when that address was allocated.
	SequenceNumberForAllocation map[string]uint64 `json:"sequenceNumberForAllocation"`
	// Deleted marks a block being deleted, so a racing writer sees a
	// conflict instead of resurrecting it. Not for users to set.
	Deleted bool `json:"deleted"`
	// DeprecatedStrictAffinity is unused; IPAMConfiguration.strictAffinity
	// is the setting that counts.
	DeprecatedStrictAffinity bool `json:"strictAffinity"`
}

// AllocationAttribute records who owns an allocation.
type AllocationAttribute struct {
	// AttrPrimary is the handle ID, e.g. "k8s-pod-network.<container-id>".
	AttrPrimary *string `json:"handle_id,omitempty"`
	// AttrSecondary is free-form metadata: namespace, pod, node, type.
	AttrSecondary map[string]string `json:"secondary,omitempty"`
	// ReleasedAt is set when the allocation was released while an IP
	// cooldown (IPAMConfiguration spec.ipCooldownSeconds) is configured:
	// the ordinal stays taken until the cooldown has passed. Newer Calico
	// has this field; omitted when unset.
	ReleasedAt *metav1.Time `json:"releasedAt,omitempty"`
}

// IPAMBlockList is a list of IPAMBlocks.
//
// +kubebuilder:object:root=true
type IPAMBlockList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []IPAMBlock `json:"items"`
}

// NewIPAMBlock returns an empty IPAMBlock with its TypeMeta set.
func NewIPAMBlock() *IPAMBlock { return &IPAMBlock{TypeMeta: typeMeta(KindIPAMBlock)} }

// NewIPAMBlockList returns an empty IPAMBlockList with its TypeMeta set.
func NewIPAMBlockList() *IPAMBlockList {
	return &IPAMBlockList{TypeMeta: typeMeta(KindIPAMBlock + "List")}
}

// Default does nothing: IPAM writes complete blocks.
func (b *IPAMBlock) Default() {}

// maxBlockOrdinals bounds the blocks Validate checks ordinal by ordinal
// (IPv6 blocks down to /116 have 4096 addresses).
const maxBlockOrdinals = 1 << 16

// Validate checks the block is internally consistent: a network CIDR, one
// allocation entry per address, attribute indexes in range, free ordinals
// in range and not allocated, an affinity of the form "host:<node>".
func (b *IPAMBlock) Validate() error {
	v := newValidator(KindIPAMBlock, &b.ObjectMeta)
	v.name(&b.ObjectMeta, false)
	s := &b.Spec
	n := v.cidr("spec.cidr", s.CIDR)
	if s.Affinity != nil {
		kind, who, ok := strings.Cut(*s.Affinity, ":")
		if !ok || who == "" || (kind != "host" && kind != "virtual") {
			v.addf("spec.affinity", "%q is not a valid affinity; use host:<node-name> (or leave it unset for a non-affine block)", *s.Affinity)
		}
	}
	if n != nil {
		ones, bits := n.Mask.Size()
		size := new(big.Int).Lsh(big.NewInt(1), uint(bits-ones))
		if size.Cmp(big.NewInt(maxBlockOrdinals)) > 0 {
			v.addf("spec.cidr", "%s is too large for a block (%s addresses); blocks are at most %d addresses (/%d)", s.CIDR, size, maxBlockOrdinals, bits-16)
		} else {
			b.validateOrdinals(v, int(size.Int64()))
		}
	}
	for k := range s.SequenceNumberForAllocation {
		if _, err := strconv.Atoi(k); err != nil {
			v.addf("spec.sequenceNumberForAllocation", "key %q is not an ordinal; keys are decimal address ordinals within the block", k)
		}
	}
	return v.result()
}

func (b *IPAMBlock) validateOrdinals(v *validator, size int) {
	s := &b.Spec
	if len(s.Allocations) != size {
		v.addf("spec.allocations", "has %d entries but block %s has %d addresses; there must be one entry (null when free) per address", len(s.Allocations), s.CIDR, size)
		return
	}
	for i, a := range s.Allocations {
		if a != nil && (*a < 0 || *a >= len(s.Attributes)) {
			v.addf(indexed("spec.allocations", i), "attribute index %d is out of range; the block has %d attributes", *a, len(s.Attributes))
		}
	}
	seen := make(map[int]bool, len(s.Unallocated))
	for i, o := range s.Unallocated {
		switch {
		case o < 0 || o >= size:
			v.addf(indexed("spec.unallocated", i), "ordinal %d is out of range; use 0-%d", o, size-1)
		case s.Allocations[o] != nil:
			v.addf(indexed("spec.unallocated", i), "ordinal %d is listed free but is allocated", o)
		case seen[o]:
			v.addf(indexed("spec.unallocated", i), "ordinal %d is listed twice", o)
		}
		if o >= 0 && o < size {
			seen[o] = true
		}
	}
}
