package ipam

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Resource kinds IPAM reads and writes, as api/v3 names them.
const (
	kindIPAMBlock     = "IPAMBlock"
	kindBlockAffinity = "BlockAffinity"
	kindIPAMHandle    = "IPAMHandle"
	kindIPAMConfig    = "IPAMConfiguration"
	kindIPPool        = "IPPool"
	kindIPReservation = "IPReservation"
	kindNode          = "Node"

	ipamConfigName = "default"
	apiVersion     = "projectcalico.org/v3"
)

// The types below are the JSON shapes of the projectcalico.org/v3 IPAM
// resources, field for field as Calico encodes them. IPAM encodes and
// decodes them itself (it sits below internal/client), so only the JSON
// must agree with api/v3; codec_test.go checks that it does.

// ipamBlock is an IPAMBlock resource.
type ipamBlock struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ipamBlockSpec `json:"spec"`
}

// ipamBlockSpec is Calico's IPAMBlockSpec.
type ipamBlockSpec struct {
	CIDR              string       `json:"cidr"`
	Affinity          *string      `json:"affinity,omitempty"`
	AffinityClaimTime *metav1.Time `json:"affinityClaimTime,omitempty"`
	StrictAffinity    bool         `json:"strictAffinity"`
	// Allocations maps ordinal → index into Attributes (nil = free).
	Allocations []*int `json:"allocations"`
	// Unallocated lists free ordinals in the order they will be reused
	// (released ordinals go to the back, so an address rests as long as
	// possible before it is handed out again).
	Unallocated []int                 `json:"unallocated"`
	Attributes  []allocationAttribute `json:"attributes"`
	// SequenceNumber is bumped on every write of the block.
	SequenceNumber uint64 `json:"sequenceNumber"`
	// SequenceNumberForAllocation records, per ordinal (decimal string), the
	// block sequence number at which the address was allocated.
	SequenceNumberForAllocation map[string]uint64 `json:"sequenceNumberForAllocation"`
	Deleted                     bool              `json:"deleted"`
}

// allocationAttribute is Calico's AllocationAttribute: the handle and the
// secondary attributes (namespace, pod, node, timestamp, type) of one or
// more allocations.
type allocationAttribute struct {
	HandleID  *string           `json:"handle_id,omitempty"`
	Secondary map[string]string `json:"secondary,omitempty"`
	// ReleasedAt marks allocations released while an IP cooldown is
	// configured: the ordinal stays taken until the cooldown has passed.
	ReleasedAt *metav1.Time `json:"releasedAt,omitempty"`
}

// blockAffinity is a BlockAffinity resource.
type blockAffinity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              blockAffinitySpec `json:"spec"`
}

// Affinity states (Calico's).
const (
	affinityPending         = "pending"
	affinityConfirmed       = "confirmed"
	affinityPendingDeletion = "pendingDeletion"
)

// blockAffinitySpec is Calico's BlockAffinitySpec.
type blockAffinitySpec struct {
	State   string `json:"state"`
	Node    string `json:"node"`
	CIDR    string `json:"cidr"`
	Deleted bool   `json:"deleted,omitempty"`
}

// ipamHandle is an IPAMHandle resource.
type ipamHandle struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ipamHandleSpec `json:"spec"`
}

// ipamHandleSpec is Calico's IPAMHandleSpec: allocations per block CIDR.
type ipamHandleSpec struct {
	HandleID string         `json:"handleID"`
	Block    map[string]int `json:"block"`
	Deleted  bool           `json:"deleted"`
}

// ipamConfiguration is the IPAMConfiguration resource; autoAllocateBlocks
// and ipCooldownSeconds are read when present (absent = Calico's default).
type ipamConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ipamConfigurationSpec `json:"spec"`
}

type ipamConfigurationSpec struct {
	StrictAffinity     bool  `json:"strictAffinity"`
	MaxBlocksPerHost   int32 `json:"maxBlocksPerHost,omitempty"`
	AutoAllocateBlocks *bool `json:"autoAllocateBlocks,omitempty"`
	IPCooldownSeconds  *int  `json:"ipCooldownSeconds,omitempty"`
}

// ipPool is the part of an IPPool IPAM reads.
type ipPool struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		CIDR           string   `json:"cidr"`
		Disabled       bool     `json:"disabled,omitempty"`
		BlockSize      int      `json:"blockSize,omitempty"`
		NodeSelector   string   `json:"nodeSelector,omitempty"`
		AllowedUses    []string `json:"allowedUses,omitempty"`
		AssignmentMode *string  `json:"assignmentMode,omitempty"`
	} `json:"spec"`
}

// ipReservation is the part of an IPReservation IPAM reads.
type ipReservation struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		ReservedCIDRs []string `json:"reservedCIDRs,omitempty"`
	} `json:"spec"`
}

// node is the part of a Node IPAM reads (its labels, for pool selectors).
type node struct {
	metav1.ObjectMeta `json:"metadata,omitempty"`
}
