package v3

import "github.com/tricolor-net/tricolor/api/numorstring"

// This file holds the rule schema shared by every policy kind and Profile.
// A rule matches packets by protocol, ICMP type, source and destination
// (EntityRule) and HTTP attributes, and then applies its Action:
//
//	Rule ── action, ipVersion, protocol/notProtocol, icmp/notICMP, http, metadata
//	 ├─ source:      EntityRule ── nets, selector, namespaceSelector, ports, serviceAccounts, services (+ not*)
//	 └─ destination: EntityRule
//
// Every match field has a negated twin (notProtocol, notNets, ...); all
// fields given must match for the rule to match.

// Action is what a rule (or a tier's end) does with a matching packet.
type Action string

// Rule actions.
const (
	// Allow accepts the packet; no further policy is evaluated.
	Allow Action = "Allow"
	// Deny drops the packet.
	Deny Action = "Deny"
	// Log logs the packet and goes on to the next rule.
	Log Action = "Log"
	// Pass skips the rest of the tier and continues with the next tier.
	Pass Action = "Pass"
)

// PolicyType says which direction of traffic a policy applies to.
type PolicyType string

// Policy types.
const (
	PolicyTypeIngress PolicyType = "Ingress"
	PolicyTypeEgress  PolicyType = "Egress"
)

// StagedAction says what applying a staged policy would do to its enforced twin.
type StagedAction string

// Staged actions.
const (
	// StagedActionSet creates or replaces the enforced policy (the default).
	StagedActionSet StagedAction = "Set"
	// StagedActionDelete deletes the enforced policy.
	StagedActionDelete StagedAction = "Delete"
	// StagedActionLearn marks a policy recommended by policy learning.
	StagedActionLearn StagedAction = "Learn"
	// StagedActionIgnore marks a recommendation the user chose to ignore.
	StagedActionIgnore StagedAction = "Ignore"
)

// PolicyPerformanceHint is a hint to the policy engine; it never changes
// what the policy enforces.
type PolicyPerformanceHint string

// Performance hints.
const (
	// PerfHintAssumeNeededOnEveryNode makes every node program the policy as
	// if it had a matching local endpoint (preloading large static policies).
	PerfHintAssumeNeededOnEveryNode PolicyPerformanceHint = "AssumeNeededOnEveryNode"
)

// The CRD markers on the protocol and port fields replace the Go struct
// shape of those values with their JSON shape (int-or-string; free-form list
// for ports, which Validate checks), keeping the CRD schema structural.

// Rule is one match-and-action entry of a policy's or profile's ingress or
// egress list.
type Rule struct {
	// Action is Allow, Deny, Log or Pass.
	Action Action `json:"action"`
	// IPVersion (4 or 6) restricts the rule to one IP version.
	IPVersion *int `json:"ipVersion,omitempty"`
	// Protocol restricts the rule to one IP protocol: TCP, UDP, ICMP,
	// ICMPv6, SCTP, UDPLite or a number 1-255. Required when ports are
	// matched (TCP, UDP or SCTP) and when icmp is set (ICMP or ICMPv6).
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	Protocol *numorstring.Protocol `json:"protocol,omitempty"`
	// ICMP restricts an ICMP or ICMPv6 rule to one type (and code).
	ICMP *ICMPFields `json:"icmp,omitempty"`
	// NotProtocol is the negation of Protocol.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	NotProtocol *numorstring.Protocol `json:"notProtocol,omitempty"`
	// NotICMP is the negation of ICMP.
	NotICMP *ICMPFields `json:"notICMP,omitempty"`
	// Source matches the packet's source.
	Source EntityRule `json:"source,omitempty"`
	// Destination matches the packet's destination.
	Destination EntityRule `json:"destination,omitempty"`
	// HTTP matches HTTP requests (application layer policy; Allow rules on
	// ingress only).
	HTTP *HTTPMatch `json:"http,omitempty"`
	// Metadata carries annotations about the rule.
	Metadata *RuleMetadata `json:"metadata,omitempty"`
}

// HTTPPath matches a request path exactly or by prefix; set exactly one.
type HTTPPath struct {
	// Exact matches the whole path.
	Exact string `json:"exact,omitempty"`
	// Prefix matches the start of the path.
	Prefix string `json:"prefix,omitempty"`
}

// HTTPMatch matches HTTP requests; methods and paths are ANDed, entries
// within each list are ORed.
type HTTPMatch struct {
	// Methods lists the HTTP methods to match (GET, PUT, ...).
	Methods []string `json:"methods,omitempty"`
	// Paths lists the paths to match.
	Paths []HTTPPath `json:"paths,omitempty"`
}

// ICMPFields matches an ICMP type and, optionally, code.
type ICMPFields struct {
	// Type is the ICMP type, 0-254 (8 is echo request).
	Type *int `json:"type,omitempty"`
	// Code is the ICMP code, 0-255; it needs Type (a kernel limitation).
	Code *int `json:"code,omitempty"`
}

// EntityRule matches one end (source or destination) of a packet.
type EntityRule struct {
	// Nets matches addresses in any of these CIDRs.
	Nets []string `json:"nets,omitempty"`
	// Selector matches endpoints (and network sets) with these labels.
	Selector string `json:"selector,omitempty"`
	// NamespaceSelector matches endpoints in namespaces with these labels.
	// In a NetworkPolicy an empty value means the policy's own namespace;
	// "global()" means non-namespaced resources (host endpoints, global
	// network sets) only.
	NamespaceSelector string `json:"namespaceSelector,omitempty"`
	// Services matches the endpoints of a Kubernetes Service (and their
	// ports). It excludes every other entity match on the same side.
	Services *ServiceMatch `json:"services,omitempty"`
	// Ports matches ports: numbers, "min:max" ranges or named ports. Needs
	// the rule's protocol to be TCP, UDP or SCTP.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Ports []numorstring.Port `json:"ports,omitempty"`
	// NotNets is the negation of Nets.
	NotNets []string `json:"notNets,omitempty"`
	// NotSelector is the negation of Selector (it also matches non-Calico
	// addresses, unlike a negated expression inside Selector).
	NotSelector string `json:"notSelector,omitempty"`
	// NotPorts is the negation of Ports.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	NotPorts []numorstring.Port `json:"notPorts,omitempty"`
	// ServiceAccounts matches pods running as these service accounts.
	ServiceAccounts *ServiceAccountMatch `json:"serviceAccounts,omitempty"`
}

// ServiceMatch names a Kubernetes Service.
type ServiceMatch struct {
	// Name is the Service's name.
	Name string `json:"name,omitempty"`
	// Namespace is the Service's namespace; empty means the policy's own
	// (required in global policies).
	Namespace string `json:"namespace,omitempty"`
}

// ServiceAccountMatch matches pods by service account; Names and Selector
// are ANDed when both are set.
type ServiceAccountMatch struct {
	// Names lists service account names.
	Names []string `json:"names,omitempty"`
	// Selector matches service accounts by their labels.
	Selector string `json:"selector,omitempty"`
}

// RuleMetadata carries information about a rule that does not affect matching.
type RuleMetadata struct {
	// Annotations are free-form key/value pairs.
	Annotations map[string]string `json:"annotations,omitempty"`
}
