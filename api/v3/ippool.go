package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// KindIPPool is the IPPool kind.
const KindIPPool = "IPPool"

// IPPool is a range of addresses Calico allocates pod and tunnel IPs from.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type IPPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPPoolSpec `json:"spec,omitempty"`
}

// IPPoolSpec is the desired state of an IPPool.
type IPPoolSpec struct {
	// CIDR is the pool's range.
	CIDR string `json:"cidr"`
	// VXLANMode says when to VXLAN-encapsulate traffic to pods in this pool.
	VXLANMode VXLANMode `json:"vxlanMode,omitempty"`
	// IPIPMode says when to IPIP-encapsulate traffic to pods in this pool.
	IPIPMode IPIPMode `json:"ipipMode,omitempty"`
	// NATOutgoing masquerades traffic from the pool to destinations outside all pools.
	NATOutgoing bool `json:"natOutgoing,omitempty"`
	// Disabled stops new allocations from the pool.
	Disabled bool `json:"disabled,omitempty"`
	// DisableBGPExport stops the pool's routes being advertised over BGP.
	DisableBGPExport bool `json:"disableBGPExport,omitempty"`
	// BlockSize is the prefix length of the blocks the pool is split into
	// (default 26 for IPv4, 122 for IPv6).
	BlockSize int `json:"blockSize,omitempty"`
	// NodeSelector selects the nodes that may allocate from the pool (default all()).
	NodeSelector string `json:"nodeSelector,omitempty"`
	// NamespaceSelector selects the namespaces whose pods may allocate from
	// the pool (default: all namespaces).
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// IPIP is the removed v1 form of ipipMode; accepted for decoding only and
	// rejected by Validate.
	IPIP *IPIPConfiguration `json:"ipip,omitempty"`
	// NATOutgoingV1 is the removed v1 spelling of natOutgoing; accepted for
	// decoding only and rejected by Validate.
	NATOutgoingV1 bool `json:"nat-outgoing,omitempty"`
	// AllowedUses lists what the pool may be used for (default Workload and Tunnel).
	AllowedUses []IPPoolAllowedUse `json:"allowedUses,omitempty"`
	// AssignmentMode is Automatic (default) or Manual (only explicit requests).
	AssignmentMode *AssignmentMode `json:"assignmentMode,omitempty"`
}

// VXLANMode is Never, Always or CrossSubnet.
type VXLANMode string

// IPIPMode is Never, Always or CrossSubnet.
type IPIPMode string

// Encapsulation modes shared by VXLANMode and IPIPMode.
const (
	VXLANModeNever       VXLANMode = "Never"
	VXLANModeAlways      VXLANMode = "Always"
	VXLANModeCrossSubnet VXLANMode = "CrossSubnet"
	IPIPModeNever        IPIPMode  = "Never"
	IPIPModeAlways       IPIPMode  = "Always"
	IPIPModeCrossSubnet  IPIPMode  = "CrossSubnet"
)

// EncapMode is the removed v1 IPIP mode spelling ("always", "cross-subnet").
type EncapMode string

// IPIPConfiguration is the removed v1 IPIP setting, kept so old documents
// decode and get a clear error instead of an unknown-field failure.
type IPIPConfiguration struct {
	// Enabled turned IPIP on.
	Enabled bool `json:"enabled,omitempty"`
	// Mode was "always" or "cross-subnet".
	Mode EncapMode `json:"mode,omitempty"`
}

// IPPoolAllowedUse is Workload, Tunnel or LoadBalancer.
type IPPoolAllowedUse string

// Allowed uses of a pool.
const (
	IPPoolAllowedUseWorkload     IPPoolAllowedUse = "Workload"
	IPPoolAllowedUseTunnel       IPPoolAllowedUse = "Tunnel"
	IPPoolAllowedUseLoadBalancer IPPoolAllowedUse = "LoadBalancer"
)

// AssignmentMode is Automatic or Manual.
type AssignmentMode string

// Assignment modes.
const (
	AssignmentModeAutomatic AssignmentMode = "Automatic"
	AssignmentModeManual    AssignmentMode = "Manual"
)

// IPPoolList is a list of IPPools.
//
// +kubebuilder:object:root=true
type IPPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPPool `json:"items"`
}

// NewIPPool returns an empty IPPool with its TypeMeta set.
func NewIPPool() *IPPool { return &IPPool{TypeMeta: typeMeta(KindIPPool)} }

// NewIPPoolList returns an empty IPPoolList with its TypeMeta set.
func NewIPPoolList() *IPPoolList { return &IPPoolList{TypeMeta: typeMeta(KindIPPool + "List")} }

// Default applies Calico's IPPool defaults: block size 26 (IPv4) or 122
// (IPv6), encapsulation Never, nodeSelector all(), allowed uses Workload and
// Tunnel, assignment mode Automatic.
func (p *IPPool) Default() {
	if p.Spec.BlockSize == 0 {
		if _, n, err := parseCIDR(p.Spec.CIDR); err == nil && !IsIPv4Net(n) {
			p.Spec.BlockSize = 122
		} else {
			p.Spec.BlockSize = 26
		}
	}
	if p.Spec.VXLANMode == "" {
		p.Spec.VXLANMode = VXLANModeNever
	}
	if p.Spec.IPIPMode == "" {
		p.Spec.IPIPMode = IPIPModeNever
	}
	if p.Spec.NodeSelector == "" {
		p.Spec.NodeSelector = "all()"
	}
	if len(p.Spec.AllowedUses) == 0 {
		p.Spec.AllowedUses = []IPPoolAllowedUse{IPPoolAllowedUseWorkload, IPPoolAllowedUseTunnel}
	}
	if p.Spec.AssignmentMode == nil {
		m := AssignmentModeAutomatic
		p.Spec.AssignmentMode = &m
	}
}

// Validate checks the pool on its own: CIDR, block size for its family,
// encapsulation modes, selector and allowed uses.
func (p *IPPool) Validate() error {
	v := newValidator(KindIPPool, &p.ObjectMeta)
	v.name(&p.ObjectMeta, false)
	n := v.cidr("spec.cidr", p.Spec.CIDR)
	if n != nil {
		ones, _ := n.Mask.Size()
		if IsIPv4Net(n) {
			if p.Spec.BlockSize != 0 && (p.Spec.BlockSize < 20 || p.Spec.BlockSize > 32) {
				v.addf("spec.blockSize", "%d is out of range for an IPv4 pool; use 20-32 (default 26)", p.Spec.BlockSize)
			}
		} else {
			if p.Spec.BlockSize != 0 && (p.Spec.BlockSize < 116 || p.Spec.BlockSize > 128) {
				v.addf("spec.blockSize", "%d is out of range for an IPv6 pool; use 116-128 (default 122)", p.Spec.BlockSize)
			}
			if p.Spec.IPIPMode != "" && p.Spec.IPIPMode != IPIPModeNever {
				v.addf("spec.ipipMode", "%q is not supported for IPv6 pools; IPIP carries IPv4 only, use Never (or vxlanMode)", p.Spec.IPIPMode)
			}
		}
		if p.Spec.BlockSize != 0 && ones > p.Spec.BlockSize {
			v.addf("spec.blockSize", "%d is smaller than the pool's own prefix /%d; use a block size of at least %d", p.Spec.BlockSize, ones, ones)
		}
	}
	switch p.Spec.VXLANMode {
	case "", VXLANModeNever, VXLANModeAlways, VXLANModeCrossSubnet:
	default:
		v.addf("spec.vxlanMode", "%q is not a valid mode; use Never, Always or CrossSubnet", p.Spec.VXLANMode)
	}
	switch p.Spec.IPIPMode {
	case "", IPIPModeNever, IPIPModeAlways, IPIPModeCrossSubnet:
	default:
		v.addf("spec.ipipMode", "%q is not a valid mode; use Never, Always or CrossSubnet", p.Spec.IPIPMode)
	}
	if p.Spec.IPIPMode != "" && p.Spec.IPIPMode != IPIPModeNever && p.Spec.VXLANMode != "" && p.Spec.VXLANMode != VXLANModeNever {
		v.addf("spec.ipipMode", "cannot enable both IPIP (%s) and VXLAN (%s) on one pool; set one of them to Never", p.Spec.IPIPMode, p.Spec.VXLANMode)
	}
	if p.Spec.NodeSelector != "" {
		if _, err := selector.Parse(p.Spec.NodeSelector); err != nil {
			v.addf("spec.nodeSelector", "invalid selector: %v", err)
		}
	}
	if p.Spec.NamespaceSelector != "" {
		if _, err := selector.Parse(p.Spec.NamespaceSelector); err != nil {
			v.addf("spec.namespaceSelector", "invalid selector: %v", err)
		}
	}
	if p.Spec.IPIP != nil {
		v.addf("spec.ipip", "is the removed v1 field; use spec.ipipMode (Always, CrossSubnet or Never)")
	}
	if p.Spec.NATOutgoingV1 {
		v.addf("spec.nat-outgoing", "is the removed v1 spelling; use spec.natOutgoing")
	}
	for i, u := range p.Spec.AllowedUses {
		switch u {
		case IPPoolAllowedUseWorkload, IPPoolAllowedUseTunnel, IPPoolAllowedUseLoadBalancer:
		default:
			v.addf(indexed("spec.allowedUses", i), "%q is not a valid use; use Workload, Tunnel or LoadBalancer", u)
		}
	}
	if p.Spec.AssignmentMode != nil {
		switch *p.Spec.AssignmentMode {
		case AssignmentModeAutomatic, AssignmentModeManual:
		default:
			v.addf("spec.assignmentMode", "%q is not valid; use Automatic or Manual", *p.Spec.AssignmentMode)
		}
	}
	return v.result()
}
