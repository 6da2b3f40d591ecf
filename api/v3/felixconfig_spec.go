package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// FelixConfigurationSpec is the Felix configuration. Every field is optional:
// unset means "use the value from a more general source" (node resource,
// then "default" resource, then Felix's built-in default); environment
// variables FELIX_<FIELD> take precedence over all resources.
type FelixConfigurationSpec struct {
	// UseInternalDataplaneDriver uses Felix's built-in dataplane (true) or an external driver
	// process (false).
	UseInternalDataplaneDriver *bool `json:"useInternalDataplaneDriver,omitempty"`
	// DataplaneDriver is the external dataplane driver binary, used when
	// useInternalDataplaneDriver is false.
	DataplaneDriver string `json:"dataplaneDriver,omitempty"`
	// DataplaneWatchdogTimeout is how long the dataplane loop may go without a heartbeat before
	// the health report fails. Deprecated in favour of healthTimeoutOverrides.
	DataplaneWatchdogTimeout *metav1.Duration `json:"dataplaneWatchdogTimeout,omitempty"`
	// IPv6Support turns IPv6 programming on or off.
	IPv6Support *bool `json:"ipv6Support,omitempty"`
	// RouteRefreshInterval is how often routes are re-read and repaired; 0 disables.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	RouteRefreshInterval *metav1.Duration `json:"routeRefreshInterval,omitempty"`
	// InterfaceRefreshInterval is how often interfaces are re-scanned, as a backstop to netlink
	// events; 0 disables.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	InterfaceRefreshInterval *metav1.Duration `json:"interfaceRefreshInterval,omitempty"`
	// IptablesRefreshInterval is how often the iptables rules are fully re-checked and repaired.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	IptablesRefreshInterval *metav1.Duration `json:"iptablesRefreshInterval,omitempty"`
	// IptablesPostWriteCheckInterval is the delay after a write before Felix re-reads iptables
	// to catch concurrent modifiers.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	IptablesPostWriteCheckInterval *metav1.Duration `json:"iptablesPostWriteCheckInterval,omitempty"`
	// IptablesLockFilePath is the legacy iptables lock file.
	IptablesLockFilePath string `json:"iptablesLockFilePath,omitempty"`
	// IptablesLockTimeout is how long to wait for the iptables lock; 0 means do not take it.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	IptablesLockTimeout *metav1.Duration `json:"iptablesLockTimeout,omitempty"`
	// IptablesLockProbeInterval is how often to retry the iptables lock while waiting.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	IptablesLockProbeInterval *metav1.Duration `json:"iptablesLockProbeInterval,omitempty"`
	// FeatureDetectOverride forces the result of kernel feature detection, as comma-separated
	// name=true|false pairs.
	// +kubebuilder:validation:Pattern=`^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$`
	FeatureDetectOverride string `json:"featureDetectOverride,omitempty"`
	// FeatureGates turns experimental features on or off, as comma-separated name=value pairs.
	// +kubebuilder:validation:Pattern=`^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$`
	FeatureGates string `json:"featureGates,omitempty"`
	// IpsetsRefreshInterval is how often IP sets are re-checked and repaired.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	IpsetsRefreshInterval *metav1.Duration `json:"ipsetsRefreshInterval,omitempty"`
	// MaxIpsetSize is the maximum number of members in one IP set.
	MaxIpsetSize *int `json:"maxIpsetSize,omitempty"`
	// IptablesBackend chooses the iptables flavour: Legacy, NFT or Auto (detect).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^(?i)(Auto|Legacy|NFT)?$`
	IptablesBackend *IptablesBackend `json:"iptablesBackend,omitempty"`
	// XDPRefreshInterval is how often XDP programs and maps are re-checked.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	XDPRefreshInterval *metav1.Duration `json:"xdpRefreshInterval,omitempty"`
	// NetlinkTimeout bounds each netlink request.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	NetlinkTimeout *metav1.Duration `json:"netlinkTimeout,omitempty"`
	// MetadataAddr is the address of an OpenStack-style metadata server to allow workloads to
	// reach.
	MetadataAddr string `json:"metadataAddr,omitempty"`
	// MetadataPort is the metadata server's port.
	MetadataPort *int `json:"metadataPort,omitempty"`
	// OpenstackRegion is the OpenStack region of this deployment.
	OpenstackRegion string `json:"openstackRegion,omitempty"`
	// InterfacePrefix is the name prefix of workload interfaces (comma-separated list allowed;
	// default cali).
	InterfacePrefix string `json:"interfacePrefix,omitempty"`
	// InterfaceExclude lists interfaces (names or /regex/) Felix should ignore.
	InterfaceExclude string `json:"interfaceExclude,omitempty"`
	// ChainInsertMode says whether Felix's top-level rules are inserted before (Insert) or
	// appended after (Append) other rules.
	// +kubebuilder:validation:Pattern=`^(?i)(Insert|Append)?$`
	ChainInsertMode string `json:"chainInsertMode,omitempty"`
	// DefaultEndpointToHostAction is what happens to traffic from a workload to its own host
	// after policy: Drop, Accept or Return.
	// +kubebuilder:validation:Pattern=`^(?i)(Drop|Accept|Return)?$`
	DefaultEndpointToHostAction string `json:"defaultEndpointToHostAction,omitempty"`
	// IptablesFilterAllowAction is the verdict for allowed traffic in the filter table: Accept
	// or Return.
	// +kubebuilder:validation:Pattern=`^(?i)(Accept|Return)?$`
	IptablesFilterAllowAction string `json:"iptablesFilterAllowAction,omitempty"`
	// IptablesMangleAllowAction is the verdict for allowed traffic in the mangle table: Accept
	// or Return.
	// +kubebuilder:validation:Pattern=`^(?i)(Accept|Return)?$`
	IptablesMangleAllowAction string `json:"iptablesMangleAllowAction,omitempty"`
	// IptablesFilterDenyAction is the verdict for denied traffic in the filter table: Drop or
	// Reject.
	// +kubebuilder:validation:Pattern=`^(?i)(Drop|Reject)?$`
	IptablesFilterDenyAction string `json:"iptablesFilterDenyAction,omitempty"`
	// LogPrefix is the prefix of packet log lines written by Log rules.
	LogPrefix string `json:"logPrefix,omitempty"`
	// LogFilePath is Felix's log file; empty or "none" disables file logging.
	LogFilePath string `json:"logFilePath,omitempty"`
	// LogSeverityFile is the level for the log file.
	// +kubebuilder:validation:Pattern=`^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$`
	LogSeverityFile string `json:"logSeverityFile,omitempty"`
	// LogSeverityScreen is the level for standard output.
	// +kubebuilder:validation:Pattern=`^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$`
	LogSeverityScreen string `json:"logSeverityScreen,omitempty"`
	// LogSeveritySys is the level for syslog.
	// +kubebuilder:validation:Pattern=`^(?i)(Trace|Debug|Info|Warning|Error|Fatal)?$`
	LogSeveritySys string `json:"logSeveritySys,omitempty"`
	// LogDebugFilenameRegex limits debug logging to source files matching this expression.
	LogDebugFilenameRegex string `json:"logDebugFilenameRegex,omitempty"`
	// IPIPEnabled overrides detection of whether IPIP is in use.
	IPIPEnabled *bool `json:"ipipEnabled,omitempty"`
	// IPIPMTU is the MTU of the IPIP tunnel device (0 = detect).
	IPIPMTU *int `json:"ipipMTU,omitempty"`
	// VXLANEnabled overrides detection of whether IPv4 VXLAN is in use.
	VXLANEnabled *bool `json:"vxlanEnabled,omitempty"`
	// VXLANMTU is the MTU of the IPv4 VXLAN device (0 = detect).
	VXLANMTU *int `json:"vxlanMTU,omitempty"`
	// VXLANMTUV6 is the MTU of the IPv6 VXLAN device (0 = detect).
	VXLANMTUV6 *int `json:"vxlanMTUV6,omitempty"`
	// VXLANPort is the VXLAN UDP port (default 4789).
	VXLANPort *int `json:"vxlanPort,omitempty"`
	// VXLANVNI is the VXLAN network identifier (default 4096).
	VXLANVNI *int `json:"vxlanVNI,omitempty"`
	// AllowVXLANPacketsFromWorkloads lets workloads send VXLAN packets (they are dropped by
	// default).
	AllowVXLANPacketsFromWorkloads *bool `json:"allowVXLANPacketsFromWorkloads,omitempty"`
	// AllowIPIPPacketsFromWorkloads lets workloads send IPIP packets (they are dropped by
	// default).
	AllowIPIPPacketsFromWorkloads *bool `json:"allowIPIPPacketsFromWorkloads,omitempty"`
	// ReportingInterval is how often Felix reports its status to the datastore; 0 disables.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	ReportingInterval *metav1.Duration `json:"reportingInterval,omitempty"`
	// ReportingTTL is the lifetime of a status report.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	ReportingTTL *metav1.Duration `json:"reportingTTL,omitempty"`
	// EndpointReportingEnabled turns on per-endpoint status reports.
	EndpointReportingEnabled *bool `json:"endpointReportingEnabled,omitempty"`
	// EndpointReportingDelay batches endpoint status reports by this delay.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	EndpointReportingDelay *metav1.Duration `json:"endpointReportingDelay,omitempty"`
	// EndpointStatusPathPrefix is where per-endpoint status files are written; empty disables
	// them.
	EndpointStatusPathPrefix string `json:"endpointStatusPathPrefix,omitempty"`
	// IptablesMarkMask is the packet-mark bits Felix may use in iptables mode.
	IptablesMarkMask *uint32 `json:"iptablesMarkMask,omitempty"`
	// DisableConntrackInvalidCheck stops Felix dropping packets conntrack marks INVALID.
	DisableConntrackInvalidCheck *bool `json:"disableConntrackInvalidCheck,omitempty"`
	// HealthEnabled serves the health endpoint.
	HealthEnabled *bool `json:"healthEnabled,omitempty"`
	// HealthHost is the health endpoint's listen address.
	HealthHost *string `json:"healthHost,omitempty"`
	// HealthPort is the health endpoint's port.
	HealthPort *int `json:"healthPort,omitempty"`
	// HealthTimeoutOverrides overrides the timeout of named internal health reporters.
	HealthTimeoutOverrides []HealthTimeoutOverride `json:"healthTimeoutOverrides,omitempty"`
	// PrometheusMetricsEnabled serves Prometheus metrics.
	PrometheusMetricsEnabled *bool `json:"prometheusMetricsEnabled,omitempty"`
	// PrometheusMetricsHost is the metrics listen address.
	PrometheusMetricsHost string `json:"prometheusMetricsHost,omitempty"`
	// PrometheusMetricsPort is the metrics port.
	PrometheusMetricsPort *int `json:"prometheusMetricsPort,omitempty"`
	// PrometheusGoMetricsEnabled includes Go runtime metrics.
	PrometheusGoMetricsEnabled *bool `json:"prometheusGoMetricsEnabled,omitempty"`
	// PrometheusProcessMetricsEnabled includes process metrics.
	PrometheusProcessMetricsEnabled *bool `json:"prometheusProcessMetricsEnabled,omitempty"`
	// PrometheusWireGuardMetricsEnabled includes WireGuard metrics.
	PrometheusWireGuardMetricsEnabled *bool `json:"prometheusWireGuardMetricsEnabled,omitempty"`
	// FailsafeInboundHostPorts are host ports always open inbound, whatever the host endpoint
	// policy; an empty list removes the defaults.
	FailsafeInboundHostPorts *[]ProtoPort `json:"failsafeInboundHostPorts,omitempty"`
	// FailsafeOutboundHostPorts are host ports always open outbound, whatever the host endpoint
	// policy; an empty list removes the defaults.
	FailsafeOutboundHostPorts *[]ProtoPort `json:"failsafeOutboundHostPorts,omitempty"`
	// KubeNodePortRanges are the Kubernetes NodePort ranges, so policy can tell NodePort traffic
	// apart.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	KubeNodePortRanges *[]numorstring.Port `json:"kubeNodePortRanges,omitempty"`
	// PolicySyncPathPrefix is the directory for the per-workload policy sync API; empty disables
	// it.
	PolicySyncPathPrefix string `json:"policySyncPathPrefix,omitempty"`
	// UsageReportingEnabled sends anonymous version and cluster-size reports.
	UsageReportingEnabled *bool `json:"usageReportingEnabled,omitempty"`
	// UsageReportingInitialDelay is the delay before the first usage report.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	UsageReportingInitialDelay *metav1.Duration `json:"usageReportingInitialDelay,omitempty"`
	// UsageReportingInterval is the interval between usage reports.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	UsageReportingInterval *metav1.Duration `json:"usageReportingInterval,omitempty"`
	// NATPortRange is the source port range used when masquerading.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	NATPortRange *numorstring.Port `json:"natPortRange,omitempty"`
	// NATOutgoingAddress is the source address for outgoing NAT instead of the interface
	// address.
	NATOutgoingAddress string `json:"natOutgoingAddress,omitempty"`
	// NATOutgoingExclusions says which destinations skip outgoing NAT: IPPoolsOnly or
	// IPPoolsAndHostIPs.
	NATOutgoingExclusions *NATOutgoingExclusionsType `json:"natOutgoingExclusions,omitempty"`
	// DeviceRouteSourceAddress is the IPv4 source address set on routes to local workloads.
	DeviceRouteSourceAddress string `json:"deviceRouteSourceAddress,omitempty"`
	// DeviceRouteSourceAddressIPv6 is the IPv6 source address set on routes to local workloads.
	DeviceRouteSourceAddressIPv6 string `json:"deviceRouteSourceAddressIPv6,omitempty"`
	// DeviceRouteProtocol is the route protocol number Felix marks its routes with.
	DeviceRouteProtocol *int `json:"deviceRouteProtocol,omitempty"`
	// RemoveExternalRoutes removes routes to workload interfaces that Felix did not program.
	RemoveExternalRoutes *bool `json:"removeExternalRoutes,omitempty"`
	// ProgramClusterRoutes makes Felix (rather than the BGP agent) program routes to other
	// nodes' blocks: Enabled or Disabled.
	// +kubebuilder:validation:Enum=Enabled;Disabled
	ProgramClusterRoutes *string `json:"programClusterRoutes,omitempty"`
	// IPForwarding says whether Felix turns on kernel IP forwarding: Enabled or Disabled.
	// +kubebuilder:validation:Enum=Enabled;Disabled
	IPForwarding string `json:"ipForwarding,omitempty"`
	// ExternalNodesCIDRList lists hosts outside the cluster that may send IPIP traffic to nodes.
	ExternalNodesCIDRList *[]string `json:"externalNodesList,omitempty"`
	// DebugMemoryProfilePath is where a heap profile is written on SIGUSR1.
	DebugMemoryProfilePath string `json:"debugMemoryProfilePath,omitempty"`
	// DebugDisableLogDropping blocks instead of dropping logs when the log queue is full.
	DebugDisableLogDropping *bool `json:"debugDisableLogDropping,omitempty"`
	// DebugSimulateCalcGraphHangAfter makes the calculation graph hang after this long (testing
	// only).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	DebugSimulateCalcGraphHangAfter *metav1.Duration `json:"debugSimulateCalcGraphHangAfter,omitempty"`
	// DebugSimulateDataplaneHangAfter makes the dataplane hang after this long (testing only).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	DebugSimulateDataplaneHangAfter *metav1.Duration `json:"debugSimulateDataplaneHangAfter,omitempty"`
	// DebugSimulateDataplaneApplyDelay delays every dataplane apply by this long (testing only).
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	DebugSimulateDataplaneApplyDelay *metav1.Duration `json:"debugSimulateDataplaneApplyDelay,omitempty"`
	// DebugHost is the debug (pprof) listen address.
	DebugHost *string `json:"debugHost,omitempty"`
	// DebugPort is the debug (pprof) port; unset disables it.
	DebugPort *int `json:"debugPort,omitempty"`
	// IptablesNATOutgoingInterfaceFilter limits outgoing NAT to interfaces matching this name
	// pattern.
	IptablesNATOutgoingInterfaceFilter string `json:"iptablesNATOutgoingInterfaceFilter,omitempty"`
	// SidecarAccelerationEnabled turns on the eBPF sidecar acceleration.
	SidecarAccelerationEnabled *bool `json:"sidecarAccelerationEnabled,omitempty"`
	// XDPEnabled uses XDP for untracked deny policy where the NIC supports it.
	XDPEnabled *bool `json:"xdpEnabled,omitempty"`
	// GenericXDPEnabled allows generic (driver-independent) XDP.
	GenericXDPEnabled *bool `json:"genericXDPEnabled,omitempty"`
	// NFTablesMode selects the nftables dataplane: Enabled, Disabled or Auto.
	// +kubebuilder:validation:Enum=Disabled;Enabled;Auto
	NFTablesMode *NFTablesMode `json:"nftablesMode,omitempty"`
	// NftablesRefreshInterval is how often the nftables rules are fully re-checked.
	NftablesRefreshInterval *metav1.Duration `json:"nftablesRefreshInterval,omitempty"`
	// NftablesFilterAllowAction is the verdict for allowed traffic in the nftables filter
	// chains: Accept or Return.
	// +kubebuilder:validation:Pattern=`^(?i)(Accept|Return)?$`
	NftablesFilterAllowAction string `json:"nftablesFilterAllowAction,omitempty"`
	// NftablesMangleAllowAction is the verdict for allowed traffic in the nftables mangle
	// chains: Accept or Return.
	// +kubebuilder:validation:Pattern=`^(?i)(Accept|Return)?$`
	NftablesMangleAllowAction string `json:"nftablesMangleAllowAction,omitempty"`
	// NftablesFilterDenyAction is the verdict for denied traffic in nftables mode: Drop or
	// Reject.
	// +kubebuilder:validation:Pattern=`^(?i)(Drop|Reject)?$`
	NftablesFilterDenyAction string `json:"nftablesFilterDenyAction,omitempty"`
	// NftablesMarkMask is the packet-mark bits Felix may use in nftables mode.
	NftablesMarkMask *uint32 `json:"nftablesMarkMask,omitempty"`
	// BPFEnabled selects the eBPF dataplane.
	BPFEnabled *bool `json:"bpfEnabled,omitempty"`
	// BPFDisableUnprivileged sets kernel.unprivileged_bpf_disabled.
	BPFDisableUnprivileged *bool `json:"bpfDisableUnprivileged,omitempty"`
	// BPFLogLevel is the eBPF programs' log level: Off, Info or Debug. Always encoded, even when
	// empty.
	// +kubebuilder:validation:Pattern=`^(?i)(Off|Info|Debug)?$`
	BPFLogLevel string `json:"bpfLogLevel"`
	// BPFConntrackLogLevel is the eBPF conntrack cleaner's log level: Off or Debug.
	// +kubebuilder:validation:Enum=Off;Debug
	BPFConntrackLogLevel string `json:"bpfConntrackLogLevel,omitempty"`
	// BPFConntrackCleanupMode selects who expires eBPF conntrack entries: Auto, Userspace or
	// BPFProgram.
	BPFConntrackCleanupMode *BPFConntrackMode `json:"bpfConntrackMode,omitempty"`
	// BPFConntrackTimeouts are the eBPF conntrack timeouts per state.
	BPFConntrackTimeouts *BPFConntrackTimeouts `json:"bpfConntrackTimeouts,omitempty"`
	// BPFLogFilters are per-interface pcap-style filters for eBPF debug logs.
	BPFLogFilters *map[string]string `json:"bpfLogFilters,omitempty"`
	// BPFCTLBLogFilter limits connect-time load balancer debug logs.
	BPFCTLBLogFilter string `json:"bpfCTLBLogFilter,omitempty"`
	// BPFDataIfacePattern matches the host interfaces eBPF programs attach to.
	BPFDataIfacePattern string `json:"bpfDataIfacePattern,omitempty"`
	// BPFL3IfacePattern matches layer-3 (no Ethernet header) interfaces for eBPF.
	BPFL3IfacePattern string `json:"bpfL3IfacePattern,omitempty"`
	// BPFConnectTimeLoadBalancingEnabled is the deprecated switch for connect-time load
	// balancing.
	BPFConnectTimeLoadBalancingEnabled *bool `json:"bpfConnectTimeLoadBalancingEnabled,omitempty"`
	// BPFConnectTimeLoadBalancing selects connect-time load balancing: TCP, Enabled or Disabled.
	BPFConnectTimeLoadBalancing *BPFConnectTimeLBType `json:"bpfConnectTimeLoadBalancing,omitempty"`
	// BPFHostNetworkedNATWithoutCTLB NATs host-networked traffic to services without connect-
	// time load balancing: Enabled or Disabled.
	BPFHostNetworkedNATWithoutCTLB *BPFHostNetworkedNATType `json:"bpfHostNetworkedNATWithoutCTLB,omitempty"`
	// BPFExternalServiceMode is how traffic from outside reaches service backends: Tunnel or
	// DSR.
	// +kubebuilder:validation:Pattern=`^(?i)(Tunnel|DSR)?$`
	BPFExternalServiceMode string `json:"bpfExternalServiceMode,omitempty"`
	// BPFDSROptoutCIDRs are sources that never use DSR.
	BPFDSROptoutCIDRs *[]string `json:"bpfDSROptoutCIDRs,omitempty"`
	// BPFExtToServiceConnmark is a connmark set on external traffic to services.
	BPFExtToServiceConnmark *int `json:"bpfExtToServiceConnmark,omitempty"`
	// BPFKubeProxyIptablesCleanupEnabled removes kube-proxy's iptables rules in eBPF mode.
	BPFKubeProxyIptablesCleanupEnabled *bool `json:"bpfKubeProxyIptablesCleanupEnabled,omitempty"`
	// BPFKubeProxyMinSyncPeriod is the minimum interval between service map updates.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	BPFKubeProxyMinSyncPeriod *metav1.Duration `json:"bpfKubeProxyMinSyncPeriod,omitempty"`
	// BPFKubeProxyEndpointSlicesEnabled is deprecated and has no effect.
	BPFKubeProxyEndpointSlicesEnabled *bool `json:"bpfKubeProxyEndpointSlicesEnabled,omitempty"`
	// BPFPSNATPorts is the source port range for source NAT to resolve port clashes.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^.*`
	BPFPSNATPorts *numorstring.Port `json:"bpfPSNATPorts,omitempty"`
	// BPFMapSizeNATFrontend sizes the eBPF service frontend map.
	BPFMapSizeNATFrontend *int `json:"bpfMapSizeNATFrontend,omitempty"`
	// BPFMapSizeNATBackend sizes the eBPF service backend map.
	BPFMapSizeNATBackend *int `json:"bpfMapSizeNATBackend,omitempty"`
	// BPFMapSizeNATAffinity sizes the eBPF session affinity map.
	BPFMapSizeNATAffinity *int `json:"bpfMapSizeNATAffinity,omitempty"`
	// BPFMapSizeRoute sizes the eBPF route map.
	BPFMapSizeRoute *int `json:"bpfMapSizeRoute,omitempty"`
	// BPFMapSizeConntrack sizes the eBPF conntrack map.
	BPFMapSizeConntrack *int `json:"bpfMapSizeConntrack,omitempty"`
	// BPFMapSizePerCPUConntrack sizes the eBPF conntrack map per CPU (total = value x CPUs) when
	// set.
	BPFMapSizePerCPUConntrack *int `json:"bpfMapSizePerCpuConntrack,omitempty"`
	// BPFMapSizeConntrackScaling lets Felix grow the conntrack map: Disabled or DoubleIfFull.
	// +kubebuilder:validation:Pattern=`^(?i)(Disabled|DoubleIfFull)?$`
	BPFMapSizeConntrackScaling string `json:"bpfMapSizeConntrackScaling,omitempty"`
	// BPFMapSizeConntrackCleanupQueue sizes the queue of conntrack entries awaiting cleanup.
	// +kubebuilder:validation:Minimum=1
	BPFMapSizeConntrackCleanupQueue *int `json:"bpfMapSizeConntrackCleanupQueue,omitempty"`
	// BPFMapSizeIPSets sizes the eBPF IP set map.
	BPFMapSizeIPSets *int `json:"bpfMapSizeIPSets,omitempty"`
	// BPFMapSizeIfState sizes the eBPF interface state map.
	BPFMapSizeIfState *int `json:"bpfMapSizeIfState,omitempty"`
	// BPFHostConntrackBypass skips the kernel's conntrack for traffic the eBPF programs track.
	BPFHostConntrackBypass *bool `json:"bpfHostConntrackBypass,omitempty"`
	// BPFEnforceRPF sets reverse-path filtering in eBPF: Disabled, Strict or Loose.
	// +kubebuilder:validation:Pattern=`^(?i)(Disabled|Strict|Loose)?$`
	BPFEnforceRPF string `json:"bpfEnforceRPF,omitempty"`
	// BPFPolicyDebugEnabled records eBPF policy program debug information.
	BPFPolicyDebugEnabled *bool `json:"bpfPolicyDebugEnabled,omitempty"`
	// BPFForceTrackPacketsFromIfaces lists interfaces whose packets are always tracked.
	BPFForceTrackPacketsFromIfaces *[]string `json:"bpfForceTrackPacketsFromIfaces,omitempty"`
	// BPFDisableGROForIfaces matches interfaces on which GRO is turned off.
	BPFDisableGROForIfaces string `json:"bpfDisableGROForIfaces,omitempty"`
	// BPFExcludeCIDRsFromNAT are destinations never NATed to service backends.
	BPFExcludeCIDRsFromNAT *[]string `json:"bpfExcludeCIDRsFromNAT,omitempty"`
	// BPFExportBufferSizeMB sizes the eBPF flow-log export ring buffer.
	BPFExportBufferSizeMB *int `json:"bpfExportBufferSizeMB,omitempty"`
	// CgroupV2Path is where cgroup v2 is mounted.
	CgroupV2Path string `json:"cgroupV2Path,omitempty"`
	// FlowLogsPolicyEvaluationMode says whether pending policy is evaluated for flow logs: None
	// or Continuous.
	FlowLogsPolicyEvaluationMode *FlowLogsPolicyEvaluationModeType `json:"flowLogsPolicyEvaluationMode,omitempty"`
	// BPFRedirectToPeer lets eBPF redirect straight to a veth peer: Enabled, Disabled or L2Only.
	// +kubebuilder:validation:Enum=Enabled;Disabled;L2Only
	BPFRedirectToPeer string `json:"bpfRedirectToPeer,omitempty"`
	// BPFAttachType selects how eBPF programs attach: TC or TCX.
	BPFAttachType *BPFAttachOption `json:"bpfAttachType,omitempty"`
	// FlowLogsFlushInterval is how often flow logs are flushed.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	FlowLogsFlushInterval *metav1.Duration `json:"flowLogsFlushInterval,omitempty"`
	// FlowLogsCollectorDebugTrace logs the flow log collector's internals.
	FlowLogsCollectorDebugTrace *bool `json:"flowLogsCollectorDebugTrace,omitempty"`
	// FlowLogsGoldmaneServer is the flow aggregator to send flow logs to.
	FlowLogsGoldmaneServer *string `json:"flowLogsGoldmaneServer,omitempty"`
	// FlowLogsLocalReporter turns on the node-local flow reporter: Enabled or Disabled.
	// +kubebuilder:validation:Enum=Disabled;Enabled
	FlowLogsLocalReporter *string `json:"flowLogsLocalReporter,omitempty"`
	// BPFProfiling collects eBPF program profiling data: Enabled or Disabled.
	// +kubebuilder:validation:Enum=Enabled;Disabled
	BPFProfiling string `json:"bpfProfiling,omitempty"`
	// RouteSource says where Felix learns workload routes from: WorkloadIPs or CalicoIPAM.
	// +kubebuilder:validation:Pattern=`^(?i)(WorkloadIPs|CalicoIPAM)?$`
	RouteSource string `json:"routeSource,omitempty"`
	// RouteTableRanges are the routing table IDs Felix may use (replaces routeTableRange).
	RouteTableRanges *RouteTableRanges `json:"routeTableRanges,omitempty"`
	// RouteTableRange is the deprecated single routing table ID range.
	RouteTableRange *RouteTableRange `json:"routeTableRange,omitempty"`
	// RouteSyncDisabled stops Felix programming routes at all.
	RouteSyncDisabled *bool `json:"routeSyncDisabled,omitempty"`
	// WireguardEnabled turns on IPv4 WireGuard encryption between nodes.
	WireguardEnabled *bool `json:"wireguardEnabled,omitempty"`
	// WireguardEnabledV6 turns on IPv6 WireGuard encryption between nodes.
	WireguardEnabledV6 *bool `json:"wireguardEnabledV6,omitempty"`
	// WireguardThreadingEnabled turns on WireGuard's threaded NAPI.
	WireguardThreadingEnabled *bool `json:"wireguardThreadingEnabled,omitempty"`
	// WireguardListeningPort is the IPv4 WireGuard port (default 51820).
	WireguardListeningPort *int `json:"wireguardListeningPort,omitempty"`
	// WireguardListeningPortV6 is the IPv6 WireGuard port (default 51821).
	WireguardListeningPortV6 *int `json:"wireguardListeningPortV6,omitempty"`
	// WireguardRoutingRulePriority is the priority of WireGuard's routing rule.
	WireguardRoutingRulePriority *int `json:"wireguardRoutingRulePriority,omitempty"`
	// WireguardInterfaceName is the IPv4 WireGuard device name (default wireguard.cali).
	WireguardInterfaceName string `json:"wireguardInterfaceName,omitempty"`
	// WireguardInterfaceNameV6 is the IPv6 WireGuard device name (default wg-v6.cali).
	WireguardInterfaceNameV6 string `json:"wireguardInterfaceNameV6,omitempty"`
	// WireguardMTU is the IPv4 WireGuard device MTU (0 = detect).
	WireguardMTU *int `json:"wireguardMTU,omitempty"`
	// WireguardMTUV6 is the IPv6 WireGuard device MTU (0 = detect).
	WireguardMTUV6 *int `json:"wireguardMTUV6,omitempty"`
	// WireguardHostEncryptionEnabled also encrypts host-to-host traffic.
	WireguardHostEncryptionEnabled *bool `json:"wireguardHostEncryptionEnabled,omitempty"`
	// WireguardPersistentKeepAlive is the WireGuard persistent keepalive; 0 disables.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$`
	WireguardPersistentKeepAlive *metav1.Duration `json:"wireguardKeepAlive,omitempty"`
	// AWSSrcDstCheck sets the AWS source/destination check: DoNothing, Enable or Disable.
	AWSSrcDstCheck *AWSSrcDstCheckOption `json:"awsSrcDstCheck,omitempty"`
	// ServiceLoopPrevention handles traffic to service IPs with no backends so it cannot loop:
	// Drop, Reject or Disabled.
	// +kubebuilder:validation:Pattern=`^(?i)(Drop|Reject|Disabled)?$`
	ServiceLoopPrevention string `json:"serviceLoopPrevention,omitempty"`
	// WorkloadSourceSpoofing lets workloads opt in to sending from other source IPs: Disabled or
	// Any.
	// +kubebuilder:validation:Pattern=`^(?i)(Disabled|Any)?$`
	WorkloadSourceSpoofing string `json:"workloadSourceSpoofing,omitempty"`
	// MTUIfacePattern matches the host interfaces used to detect the MTU.
	MTUIfacePattern string `json:"mtuIfacePattern,omitempty"`
	// FloatingIPs turns on OpenStack floating IP NAT: Enabled or Disabled.
	FloatingIPs *FloatingIPType `json:"floatingIPs,omitempty"`
	// WindowsManageFirewallRules lets Felix manage the Windows firewall: Enabled or Disabled.
	WindowsManageFirewallRules *WindowsManageFirewallRulesMode `json:"windowsManageFirewallRules,omitempty"`
	// GoGCThreshold sets the Go garbage collector's GOGC (-1 disables GC).
	GoGCThreshold *int `json:"goGCThreshold,omitempty"`
	// GoMemoryLimitMB sets the Go runtime's soft memory limit (-1 = none).
	GoMemoryLimitMB *int `json:"goMemoryLimitMB,omitempty"`
	// GoMaxProcs sets GOMAXPROCS (-1 = number of CPUs).
	GoMaxProcs *int `json:"goMaxProcs,omitempty"`
	// RequireMTUFile makes Felix wait for the MTU file calico-node writes before starting.
	RequireMTUFile *bool `json:"requireMTUFile,omitempty"`
}
