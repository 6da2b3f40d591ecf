package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// KindHostEndpoint is the HostEndpoint kind.
const KindHostEndpoint = "HostEndpoint"

// HostEndpoint is a host interface (or "*" for all of a host's interfaces)
// that policy applies to. Its labels are what policy selectors match.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type HostEndpoint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HostEndpointSpec `json:"spec,omitempty"`
}

// HostEndpointSpec is the desired state of a HostEndpoint.
type HostEndpointSpec struct {
	// Node is the name of the node the interface is on (required).
	Node string `json:"node,omitempty"`
	// InterfaceName is the interface, or "*" for all of the node's
	// interfaces. If empty, the interface is found by ExpectedIPs.
	InterfaceName string `json:"interfaceName,omitempty"`
	// ExpectedIPs are the interface's addresses; used to find the interface
	// when InterfaceName is empty, and as the endpoint's addresses in
	// selector-based rules either way.
	ExpectedIPs []string `json:"expectedIPs,omitempty"`
	// Profiles are applied, in order, after the selector-based policy.
	Profiles []string `json:"profiles,omitempty"`
	// Ports are named ports that rules may refer to.
	Ports []EndpointPort `json:"ports,omitempty"`
}

// EndpointPort is a named port of a host endpoint.
type EndpointPort struct {
	// Name is the port's name (an IANA service name: lower case, at most 15).
	Name string `json:"name"`
	// Protocol is TCP, UDP or SCTP.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	Protocol numorstring.Protocol `json:"protocol"`
	// Port is the port number, 1-65535.
	Port uint16 `json:"port"`
}

// HostEndpointList is a list of HostEndpoints.
//
// +kubebuilder:object:root=true
type HostEndpointList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HostEndpoint `json:"items"`
}

// NewHostEndpoint returns an empty HostEndpoint with its TypeMeta set.
func NewHostEndpoint() *HostEndpoint { return &HostEndpoint{TypeMeta: typeMeta(KindHostEndpoint)} }

// NewHostEndpointList returns an empty HostEndpointList with its TypeMeta set.
func NewHostEndpointList() *HostEndpointList {
	return &HostEndpointList{TypeMeta: typeMeta(KindHostEndpoint + "List")}
}

// Default does nothing: a HostEndpoint has no defaulted fields.
func (h *HostEndpoint) Default() {}
