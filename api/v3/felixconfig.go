package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindFelixConfiguration is the FelixConfiguration kind.
const KindFelixConfiguration = "FelixConfiguration"

// FelixConfigurationDefault names the cluster-wide FelixConfiguration;
// per-node overrides are named "node.<nodename>". Calico accepts any other
// name too, but Felix reads only these.
const FelixConfigurationDefault = "default"

// FelixConfiguration configures Felix, the per-node policy and routing agent.
// The spec's field list (felixconfig_spec.go) mirrors Calico's one for one.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type FelixConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec FelixConfigurationSpec `json:"spec,omitempty"`
}

// FelixConfigurationList is a list of FelixConfigurations.
//
// +kubebuilder:object:root=true
type FelixConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FelixConfiguration `json:"items"`
}

// NewFelixConfiguration returns an empty FelixConfiguration with its TypeMeta set.
func NewFelixConfiguration() *FelixConfiguration {
	return &FelixConfiguration{TypeMeta: typeMeta(KindFelixConfiguration)}
}

// NewFelixConfigurationList returns an empty FelixConfigurationList with its TypeMeta set.
func NewFelixConfigurationList() *FelixConfigurationList {
	return &FelixConfigurationList{TypeMeta: typeMeta(KindFelixConfiguration + "List")}
}

// Default does nothing. Felix's defaults are applied when configuration is
// resolved (env > node resource > default resource > built-in); writing them
// into the resource would make a node override mask the cluster default.
func (c *FelixConfiguration) Default() {}

// IptablesBackend selects the iptables flavour.
type IptablesBackend string

// iptables backends.
const (
	IptablesBackendLegacy   IptablesBackend = "Legacy"
	IptablesBackendNFTables IptablesBackend = "NFT"
	IptablesBackendAuto     IptablesBackend = "Auto"
)

// NFTablesMode selects the nftables dataplane.
type NFTablesMode string

// nftables modes (untyped, as Calico declares them).
const (
	NFTablesModeEnabled  = "Enabled"
	NFTablesModeDisabled = "Disabled"
	NFTablesModeAuto     = "Auto"
)

// AWSSrcDstCheckOption is what Felix does with the AWS source/destination check.
//
// +kubebuilder:validation:Enum=DoNothing;Enable;Disable
type AWSSrcDstCheckOption string

// AWS source/destination check options.
const (
	AWSSrcDstCheckOptionDoNothing AWSSrcDstCheckOption = "DoNothing"
	AWSSrcDstCheckOptionEnable    AWSSrcDstCheckOption = "Enable"
	AWSSrcDstCheckOptionDisable   AWSSrcDstCheckOption = "Disable"
)

// BPFAttachOption is how eBPF programs attach to interfaces.
//
// +kubebuilder:validation:Enum=TC;TCX
type BPFAttachOption string

// eBPF attach types.
const (
	BPFAttachOptionTC  BPFAttachOption = "TC"
	BPFAttachOptionTCX BPFAttachOption = "TCX"
)

// FloatingIPType turns OpenStack floating IPs on or off.
//
// +kubebuilder:validation:Enum=Enabled;Disabled
type FloatingIPType string

// Floating IP modes.
const (
	FloatingIPsEnabled  FloatingIPType = "Enabled"
	FloatingIPsDisabled FloatingIPType = "Disabled"
)

// BPFHostNetworkedNATType turns host-networked service NAT on or off.
//
// +kubebuilder:validation:Enum=Enabled;Disabled
type BPFHostNetworkedNATType string

// Host-networked NAT modes.
const (
	BPFHostNetworkedNATEnabled  BPFHostNetworkedNATType = "Enabled"
	BPFHostNetworkedNATDisabled BPFHostNetworkedNATType = "Disabled"
)

// BPFConnectTimeLBType selects connect-time load balancing.
//
// +kubebuilder:validation:Enum=TCP;Enabled;Disabled
type BPFConnectTimeLBType string

// Connect-time load balancing modes.
const (
	BPFConnectTimeLBTCP      BPFConnectTimeLBType = "TCP"
	BPFConnectTimeLBEnabled  BPFConnectTimeLBType = "Enabled"
	BPFConnectTimeLBDisabled BPFConnectTimeLBType = "Disabled"
)

// BPFConntrackMode selects who expires eBPF conntrack entries.
//
// +kubebuilder:validation:Enum=Auto;Userspace;BPFProgram
type BPFConntrackMode string

// eBPF conntrack cleanup modes.
const (
	BPFConntrackModeAuto       BPFConntrackMode = "Auto"
	BPFConntrackModeUserspace  BPFConntrackMode = "Userspace"
	BPFConntrackModeBPFProgram BPFConntrackMode = "BPFProgram"
)

// WindowsManageFirewallRulesMode turns Windows firewall management on or off.
//
// +kubebuilder:validation:Enum=Enabled;Disabled
type WindowsManageFirewallRulesMode string

// Windows firewall management modes.
const (
	WindowsManageFirewallRulesEnabled  WindowsManageFirewallRulesMode = "Enabled"
	WindowsManageFirewallRulesDisabled WindowsManageFirewallRulesMode = "Disabled"
)

// FlowLogsPolicyEvaluationModeType says whether pending policy is evaluated
// for flow logs.
//
// +kubebuilder:validation:Enum=None;Continuous
type FlowLogsPolicyEvaluationModeType string

// Flow log policy evaluation modes.
const (
	FlowLogsPolicyEvaluationModeNone       FlowLogsPolicyEvaluationModeType = "None"
	FlowLogsPolicyEvaluationModeContinuous FlowLogsPolicyEvaluationModeType = "Continuous"
)

// NATOutgoingExclusionsType says which destinations skip outgoing NAT.
//
// +kubebuilder:validation:Enum=IPPoolsOnly;IPPoolsAndHostIPs
type NATOutgoingExclusionsType string

// Outgoing NAT exclusion modes.
const (
	NATOutgoingExclusionsIPPoolsOnly       NATOutgoingExclusionsType = "IPPoolsOnly"
	NATOutgoingExclusionsIPPoolsAndHostIPs NATOutgoingExclusionsType = "IPPoolsAndHostIPs"
)

// HealthTimeoutOverride changes the timeout of one internal health reporter.
type HealthTimeoutOverride struct {
	// Name is the reporter's name, e.g. "InternalDataplaneMainLoop".
	Name string `json:"name"`
	// Timeout is the new timeout.
	Timeout metav1.Duration `json:"timeout"`
}

// RouteTableRange is an inclusive range of routing table IDs (deprecated form).
type RouteTableRange struct {
	// Min is the first table ID.
	Min int `json:"min"`
	// Max is the last table ID.
	Max int `json:"max"`
}

// RouteTableIDRange is an inclusive range of routing table IDs.
type RouteTableIDRange struct {
	// Min is the first table ID.
	Min int `json:"min"`
	// Max is the last table ID.
	Max int `json:"max"`
}

// RouteTableRanges is a list of routing table ID ranges.
type RouteTableRanges []RouteTableIDRange

// NumDesignatedTables counts the table IDs the ranges cover.
func (r RouteTableRanges) NumDesignatedTables() int {
	n := 0
	for _, rng := range r {
		n += rng.Max - rng.Min + 1
	}
	return n
}

// ProtoPort is a protocol, port and optional peer network, used for the
// failsafe port lists.
type ProtoPort struct {
	// Protocol is tcp, udp or sctp (default tcp).
	Protocol string `json:"protocol,omitempty"`
	// Port is the port number.
	Port uint16 `json:"port"`
	// Net limits the rule to this peer CIDR (default any).
	Net string `json:"net,omitempty"`
}

// BPFConntrackTimeout is a duration such as "30s" or "Auto".
//
// +kubebuilder:validation:Pattern=`^(([0-9]*(\.[0-9]*)?(ms|s|h|m|us)+)+|Auto)$`
type BPFConntrackTimeout string

// BPFConntrackTimeouts are the eBPF conntrack timeouts per connection state.
type BPFConntrackTimeouts struct {
	// CreationGracePeriod protects new entries from cleanup for this long.
	CreationGracePeriod *BPFConntrackTimeout `json:"creationGracePeriod,omitempty"`
	// TCPSynSent is the timeout for a connection with only a SYN seen.
	TCPSynSent *BPFConntrackTimeout `json:"tcpSynSent,omitempty"`
	// TCPEstablished is the idle timeout for an established connection.
	TCPEstablished *BPFConntrackTimeout `json:"tcpEstablished,omitempty"`
	// TCPFinsSeen is the timeout after both FINs are seen.
	TCPFinsSeen *BPFConntrackTimeout `json:"tcpFinsSeen,omitempty"`
	// TCPResetSeen is the timeout after a RST.
	TCPResetSeen *BPFConntrackTimeout `json:"tcpResetSeen,omitempty"`
	// UDPTimeout is the idle timeout for UDP flows.
	UDPTimeout *BPFConntrackTimeout `json:"udpTimeout,omitempty"`
	// GenericTimeout is the idle timeout for other protocols.
	GenericTimeout *BPFConntrackTimeout `json:"genericTimeout,omitempty"`
	// ICMPTimeout is the idle timeout for ICMP flows.
	ICMPTimeout *BPFConntrackTimeout `json:"icmpTimeout,omitempty"`
}
