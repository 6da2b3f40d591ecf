package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// KindWorkloadEndpoint is the WorkloadEndpoint kind.
const KindWorkloadEndpoint = "WorkloadEndpoint"

// WorkloadEndpoint is the host side of a workload's interface (a pod's
// veth, a VM's tap). The CNI plugin writes it; on Kubernetes it is derived
// from the pod. Its labels are what policy selectors match.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced
type WorkloadEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec WorkloadEndpointSpec `json:"spec,omitempty"`
}

// WorkloadEndpointSpec is the desired state of a WorkloadEndpoint.
type WorkloadEndpointSpec struct {
	// Orchestrator names the orchestrator ("k8s", "cni", "openstack", ...).
	Orchestrator string `json:"orchestrator,omitempty"`
	// Workload names the workload (non-Kubernetes orchestrators).
	Workload string `json:"workload,omitempty"`
	// Node is the node the endpoint is on.
	Node string `json:"node,omitempty"`
	// ContainerID is the container's ID.
	ContainerID string `json:"containerID,omitempty"`
	// Pod is the pod's name (Kubernetes).
	Pod string `json:"pod,omitempty"`
	// Endpoint names the endpoint within the workload (e.g. "eth0").
	Endpoint string `json:"endpoint,omitempty"`
	// ServiceAccountName is the pod's Kubernetes service account.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// IPNetworks are the endpoint's addresses, each a /32 or /128; packets
	// may leave the interface only from these.
	IPNetworks []string `json:"ipNetworks,omitempty"`
	// IPNATs are 1:1 NAT mappings (floating IPs); each internal IP must be
	// one of IPNetworks.
	IPNATs []IPNAT `json:"ipNATs,omitempty"`
	// IPv4Gateway is the IPv4 gateway the workload uses.
	IPv4Gateway string `json:"ipv4Gateway,omitempty"`
	// IPv6Gateway is the IPv6 gateway the workload uses.
	IPv6Gateway string `json:"ipv6Gateway,omitempty"`
	// Profiles are applied, in order, after the selector-based policy.
	Profiles []string `json:"profiles,omitempty"`
	// InterfaceName is the host-side interface, e.g. "cali0123456789a" (required).
	InterfaceName string `json:"interfaceName,omitempty"`
	// MAC is the workload-side interface's MAC address.
	MAC string `json:"mac,omitempty"`
	// Ports are the endpoint's named (and host-mapped) ports.
	Ports []WorkloadEndpointPort `json:"ports,omitempty"`
	// AllowSpoofedSourcePrefixes are CIDRs the workload may send from
	// besides IPNetworks (bypassing the reverse-path check).
	AllowSpoofedSourcePrefixes []string `json:"allowSpoofedSourcePrefixes,omitempty"`
}

// WorkloadEndpointPort is a named and/or host-mapped port of a workload.
type WorkloadEndpointPort struct {
	// Name is the port's name; may be empty only when HostPort is set.
	Name string `json:"name"`
	// Protocol is TCP, UDP or SCTP.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	Protocol numorstring.Protocol `json:"protocol"`
	// Port is the container port, 1-65535.
	Port uint16 `json:"port"`
	// HostPort is the port on the host mapped to Port (0 for none).
	HostPort uint16 `json:"hostPort"`
	// HostIP is the host address HostPort is bound to (empty for all).
	HostIP string `json:"hostIP"`
}

// IPNAT is one 1:1 NAT mapping of a workload endpoint.
type IPNAT struct {
	// InternalIP is the workload's own address (one of its IPNetworks).
	InternalIP string `json:"internalIP"`
	// ExternalIP is the address inbound connections are made to.
	ExternalIP string `json:"externalIP"`
}

// WorkloadEndpointList is a list of WorkloadEndpoints.
//
// +kubebuilder:object:root=true
type WorkloadEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []WorkloadEndpoint `json:"items"`
}

// NewWorkloadEndpoint returns an empty WorkloadEndpoint with its TypeMeta set.
func NewWorkloadEndpoint() *WorkloadEndpoint {
	return &WorkloadEndpoint{TypeMeta: typeMeta(KindWorkloadEndpoint)}
}

// NewWorkloadEndpointList returns an empty WorkloadEndpointList with its TypeMeta set.
func NewWorkloadEndpointList() *WorkloadEndpointList {
	return &WorkloadEndpointList{TypeMeta: typeMeta(KindWorkloadEndpoint + "List")}
}

// Default does nothing: a WorkloadEndpoint has no defaulted fields (the CNI
// plugin fills them in).
func (w *WorkloadEndpoint) Default() {}
