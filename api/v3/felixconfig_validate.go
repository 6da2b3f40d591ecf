package v3

import (
	"regexp"
	"strings"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

var (
	keyBoolListRE   = regexp.MustCompile(`^([a-zA-Z0-9-_]+=(true|false|),)*([a-zA-Z0-9-_]+=(true|false|))?$`)
	keyValueListRE  = regexp.MustCompile(`^([a-zA-Z0-9-_]+=([^=]+),)*([a-zA-Z0-9-_]+=([^=]+))?$`)
	bpfCTTimeoutRE  = regexp.MustCompile(`^(([0-9]*(\.[0-9]*)?(ms|s|h|m|us)+)+|Auto)$`)
	reservedTables  = [3]int{253, 254, 255} // default, main, local
	maxRouteTableID = 0xffffffff
)

// Validate checks the FelixConfiguration field by field: enums (Calico
// matches most case-insensitively), log levels, durations, ports and other
// numeric ranges, CIDR lists, failsafe ports, route table ranges and regular
// expressions. Cross-field rules Calico does not enforce are not added.
func (c *FelixConfiguration) Validate() error {
	v := newValidator(KindFelixConfiguration, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	s := &c.Spec

	v.duration("spec.dataplaneWatchdogTimeout", s.DataplaneWatchdogTimeout)
	v.duration("spec.routeRefreshInterval", s.RouteRefreshInterval)
	v.duration("spec.interfaceRefreshInterval", s.InterfaceRefreshInterval)
	v.duration("spec.iptablesRefreshInterval", s.IptablesRefreshInterval)
	v.duration("spec.iptablesPostWriteCheckInterval", s.IptablesPostWriteCheckInterval)
	v.duration("spec.iptablesLockTimeout", s.IptablesLockTimeout)
	v.duration("spec.iptablesLockProbeInterval", s.IptablesLockProbeInterval)
	v.duration("spec.ipsetsRefreshInterval", s.IpsetsRefreshInterval)
	v.duration("spec.xdpRefreshInterval", s.XDPRefreshInterval)
	v.duration("spec.netlinkTimeout", s.NetlinkTimeout)
	v.duration("spec.reportingInterval", s.ReportingInterval)
	v.duration("spec.reportingTTL", s.ReportingTTL)
	v.duration("spec.endpointReportingDelay", s.EndpointReportingDelay)
	v.duration("spec.usageReportingInitialDelay", s.UsageReportingInitialDelay)
	v.duration("spec.usageReportingInterval", s.UsageReportingInterval)
	v.duration("spec.debugSimulateCalcGraphHangAfter", s.DebugSimulateCalcGraphHangAfter)
	v.duration("spec.debugSimulateDataplaneHangAfter", s.DebugSimulateDataplaneHangAfter)
	v.duration("spec.debugSimulateDataplaneApplyDelay", s.DebugSimulateDataplaneApplyDelay)
	v.duration("spec.nftablesRefreshInterval", s.NftablesRefreshInterval)
	v.duration("spec.bpfKubeProxyMinSyncPeriod", s.BPFKubeProxyMinSyncPeriod)
	v.duration("spec.flowLogsFlushInterval", s.FlowLogsFlushInterval)
	v.duration("spec.wireguardKeepAlive", s.WireguardPersistentKeepAlive)
	for i, o := range s.HealthTimeoutOverrides {
		f := indexed("spec.healthTimeoutOverrides", i)
		if o.Name == "" {
			v.addf(f+".name", "is required; name the health reporter to override")
		}
		if o.Timeout.Duration < 0 {
			v.addf(f+".timeout", "%s is negative; use a positive duration", o.Timeout.Duration)
		}
	}

	if s.FeatureDetectOverride != "" && !keyBoolListRE.MatchString(s.FeatureDetectOverride) {
		v.addf("spec.featureDetectOverride", "%q is not a list of name=true|false pairs; write e.g. ChecksumOffloadBroken=true,IPIPDeviceIsL3=false", s.FeatureDetectOverride)
	}
	if s.FeatureGates != "" && !keyValueListRE.MatchString(s.FeatureGates) {
		v.addf("spec.featureGates", "%q is not a list of name=value pairs; write e.g. BPFConnectTimeLoadBalancingWorkaround=enabled", s.FeatureGates)
	}
	if s.IptablesBackend != nil {
		v.oneOfFold("spec.iptablesBackend", string(*s.IptablesBackend), "Legacy", "NFT", "Auto")
	}
	v.oneOfFold("spec.chainInsertMode", s.ChainInsertMode, "Insert", "Append")
	v.oneOfFold("spec.defaultEndpointToHostAction", s.DefaultEndpointToHostAction, "Drop", "Accept", "Return")
	v.oneOfFold("spec.iptablesFilterAllowAction", s.IptablesFilterAllowAction, "Accept", "Return")
	v.oneOfFold("spec.iptablesMangleAllowAction", s.IptablesMangleAllowAction, "Accept", "Return")
	v.oneOfFold("spec.iptablesFilterDenyAction", s.IptablesFilterDenyAction, "Drop", "Reject")
	v.oneOfFold("spec.nftablesFilterAllowAction", s.NftablesFilterAllowAction, "Accept", "Return")
	v.oneOfFold("spec.nftablesMangleAllowAction", s.NftablesMangleAllowAction, "Accept", "Return")
	v.oneOfFold("spec.nftablesFilterDenyAction", s.NftablesFilterDenyAction, "Drop", "Reject")
	v.logLevel("spec.logSeverityFile", s.LogSeverityFile)
	v.logLevel("spec.logSeverityScreen", s.LogSeverityScreen)
	v.logLevel("spec.logSeveritySys", s.LogSeveritySys)
	v.regex("spec.logDebugFilenameRegex", s.LogDebugFilenameRegex)

	v.intRange("spec.metadataPort", s.MetadataPort, 0, 65535)
	v.intRange("spec.healthPort", s.HealthPort, 0, 65535)
	v.intRange("spec.prometheusMetricsPort", s.PrometheusMetricsPort, 0, 65535)
	v.intRange("spec.debugPort", s.DebugPort, 0, 65535)
	v.port("spec.vxlanPort", s.VXLANPort)
	v.intRange("spec.vxlanVNI", s.VXLANVNI, 1, 1<<24-1)
	v.port("spec.wireguardListeningPort", s.WireguardListeningPort)
	v.port("spec.wireguardListeningPortV6", s.WireguardListeningPortV6)
	v.intRange("spec.wireguardRoutingRulePriority", s.WireguardRoutingRulePriority, 1, 32765)
	for _, m := range []struct {
		f string
		n *int
	}{{"spec.ipipMTU", s.IPIPMTU}, {"spec.vxlanMTU", s.VXLANMTU}, {"spec.vxlanMTUV6", s.VXLANMTUV6},
		{"spec.wireguardMTU", s.WireguardMTU}, {"spec.wireguardMTUV6", s.WireguardMTUV6}} {
		v.intRange(m.f, m.n, 0, 65535)
	}
	v.intRange("spec.deviceRouteProtocol", s.DeviceRouteProtocol, 0, 255)
	v.intRange("spec.maxIpsetSize", s.MaxIpsetSize, 0, 1<<31-1)
	v.intRange("spec.bpfExtToServiceConnmark", s.BPFExtToServiceConnmark, 0, 1<<32-1)
	v.intRange("spec.bpfMapSizeConntrackCleanupQueue", s.BPFMapSizeConntrackCleanupQueue, 1, 1<<31-1)
	v.intRange("spec.goGCThreshold", s.GoGCThreshold, -1, 1<<31-1)
	v.intRange("spec.goMemoryLimitMB", s.GoMemoryLimitMB, -1, 1<<31-1)
	v.intRange("spec.goMaxProcs", s.GoMaxProcs, -1, 1<<31-1)

	v.protoPorts("spec.failsafeInboundHostPorts", s.FailsafeInboundHostPorts)
	v.protoPorts("spec.failsafeOutboundHostPorts", s.FailsafeOutboundHostPorts)
	if s.KubeNodePortRanges != nil {
		for i, p := range *s.KubeNodePortRanges {
			v.numericPorts(indexed("spec.kubeNodePortRanges", i), p)
		}
	}
	if s.NATPortRange != nil {
		v.numericPorts("spec.natPortRange", *s.NATPortRange)
	}
	if s.BPFPSNATPorts != nil {
		v.numericPorts("spec.bpfPSNATPorts", *s.BPFPSNATPorts)
	}
	if s.NATOutgoingAddress != "" {
		v.ip("spec.natOutgoingAddress", s.NATOutgoingAddress, ipv4Only)
	}
	if s.NATOutgoingExclusions != nil {
		v.oneOf("spec.natOutgoingExclusions", string(*s.NATOutgoingExclusions), string(NATOutgoingExclusionsIPPoolsOnly), string(NATOutgoingExclusionsIPPoolsAndHostIPs))
	}
	if s.DeviceRouteSourceAddress != "" {
		v.ip("spec.deviceRouteSourceAddress", s.DeviceRouteSourceAddress, ipv4Only)
	}
	if s.DeviceRouteSourceAddressIPv6 != "" {
		v.ip("spec.deviceRouteSourceAddressIPv6", s.DeviceRouteSourceAddressIPv6, ipv6Only)
	}
	if s.ProgramClusterRoutes != nil {
		v.oneOf("spec.programClusterRoutes", *s.ProgramClusterRoutes, "Enabled", "Disabled")
	}
	v.oneOf("spec.ipForwarding", s.IPForwarding, "Enabled", "Disabled")
	v.cidrList("spec.externalNodesList", s.ExternalNodesCIDRList)
	v.cidrList("spec.bpfDSROptoutCIDRs", s.BPFDSROptoutCIDRs)
	v.cidrList("spec.bpfExcludeCIDRsFromNAT", s.BPFExcludeCIDRsFromNAT)

	if s.NFTablesMode != nil {
		v.oneOf("spec.nftablesMode", string(*s.NFTablesMode), NFTablesModeEnabled, NFTablesModeDisabled, NFTablesModeAuto)
	}
	v.oneOfFold("spec.bpfLogLevel", s.BPFLogLevel, "Off", "Info", "Debug")
	v.oneOf("spec.bpfConntrackLogLevel", s.BPFConntrackLogLevel, "Off", "Debug")
	if s.BPFConntrackCleanupMode != nil {
		v.oneOf("spec.bpfConntrackMode", string(*s.BPFConntrackCleanupMode), string(BPFConntrackModeAuto), string(BPFConntrackModeUserspace), string(BPFConntrackModeBPFProgram))
	}
	if t := s.BPFConntrackTimeouts; t != nil {
		for _, e := range []struct {
			f string
			v *BPFConntrackTimeout
		}{{"creationGracePeriod", t.CreationGracePeriod}, {"tcpSynSent", t.TCPSynSent}, {"tcpEstablished", t.TCPEstablished},
			{"tcpFinsSeen", t.TCPFinsSeen}, {"tcpResetSeen", t.TCPResetSeen}, {"udpTimeout", t.UDPTimeout},
			{"genericTimeout", t.GenericTimeout}, {"icmpTimeout", t.ICMPTimeout}} {
			if e.v != nil && !bpfCTTimeoutRE.MatchString(string(*e.v)) {
				v.addf("spec.bpfConntrackTimeouts."+e.f, "%q is not a timeout; use a duration such as 30s or 1h, or Auto", *e.v)
			}
		}
	}
	v.regex("spec.bpfDataIfacePattern", s.BPFDataIfacePattern)
	v.regex("spec.bpfL3IfacePattern", s.BPFL3IfacePattern)
	v.regex("spec.bpfDisableGROForIfaces", s.BPFDisableGROForIfaces)
	v.regex("spec.mtuIfacePattern", s.MTUIfacePattern)
	if s.BPFConnectTimeLoadBalancing != nil {
		v.oneOf("spec.bpfConnectTimeLoadBalancing", string(*s.BPFConnectTimeLoadBalancing), "TCP", "Enabled", "Disabled")
	}
	if s.BPFHostNetworkedNATWithoutCTLB != nil {
		v.oneOf("spec.bpfHostNetworkedNATWithoutCTLB", string(*s.BPFHostNetworkedNATWithoutCTLB), "Enabled", "Disabled")
	}
	v.oneOfFold("spec.bpfExternalServiceMode", s.BPFExternalServiceMode, "Tunnel", "DSR")
	v.oneOfFold("spec.bpfMapSizeConntrackScaling", s.BPFMapSizeConntrackScaling, "Disabled", "DoubleIfFull")
	v.oneOfFold("spec.bpfEnforceRPF", s.BPFEnforceRPF, "Disabled", "Strict", "Loose")
	v.oneOf("spec.bpfRedirectToPeer", s.BPFRedirectToPeer, "Enabled", "Disabled", "L2Only")
	if s.BPFAttachType != nil {
		v.oneOf("spec.bpfAttachType", string(*s.BPFAttachType), string(BPFAttachOptionTC), string(BPFAttachOptionTCX))
	}
	if s.FlowLogsPolicyEvaluationMode != nil {
		v.oneOf("spec.flowLogsPolicyEvaluationMode", string(*s.FlowLogsPolicyEvaluationMode), "None", "Continuous")
	}
	if s.FlowLogsLocalReporter != nil {
		v.oneOf("spec.flowLogsLocalReporter", *s.FlowLogsLocalReporter, "Disabled", "Enabled")
	}
	v.oneOf("spec.bpfProfiling", s.BPFProfiling, "Enabled", "Disabled")
	v.oneOfFold("spec.routeSource", s.RouteSource, "WorkloadIPs", "CalicoIPAM")
	if r := s.RouteTableRange; r != nil {
		v.routeTables("spec.routeTableRange", r.Min, r.Max, 250)
	}
	if s.RouteTableRanges != nil {
		for i, r := range *s.RouteTableRanges {
			v.routeTables(indexed("spec.routeTableRanges", i), r.Min, r.Max, maxRouteTableID)
		}
	}
	v.ifaceName("spec.wireguardInterfaceName", s.WireguardInterfaceName)
	v.ifaceName("spec.wireguardInterfaceNameV6", s.WireguardInterfaceNameV6)
	if s.AWSSrcDstCheck != nil {
		v.oneOf("spec.awsSrcDstCheck", string(*s.AWSSrcDstCheck), "DoNothing", "Enable", "Disable")
	}
	v.oneOfFold("spec.serviceLoopPrevention", s.ServiceLoopPrevention, "Drop", "Reject", "Disabled")
	v.oneOfFold("spec.workloadSourceSpoofing", s.WorkloadSourceSpoofing, "Disabled", "Any")
	if s.FloatingIPs != nil {
		v.oneOf("spec.floatingIPs", string(*s.FloatingIPs), "Enabled", "Disabled")
	}
	if s.WindowsManageFirewallRules != nil {
		v.oneOf("spec.windowsManageFirewallRules", string(*s.WindowsManageFirewallRules), "Enabled", "Disabled")
	}
	return v.result()
}

// protoPorts checks a failsafe port list.
func (v *validator) protoPorts(field string, pps *[]ProtoPort) {
	if pps == nil {
		return
	}
	for i, pp := range *pps {
		f := indexed(field, i)
		if pp.Protocol != "" {
			switch strings.ToLower(pp.Protocol) {
			case "tcp", "udp", "sctp":
			default:
				v.addf(f+".protocol", "%q is not supported; use tcp, udp or sctp", pp.Protocol)
			}
		}
		if pp.Net != "" {
			v.cidrOrIP(f+".net", pp.Net, anyFamily)
		}
	}
}

// numericPorts rejects named ports where only numbers make sense.
func (v *validator) numericPorts(field string, p numorstring.Port) {
	if p.PortName != "" {
		v.addf(field, "%q is a port name; use a number or a range such as 30000:32767", p.PortName)
	}
	if p.MinPort > p.MaxPort {
		v.addf(field, "range %d:%d is reversed; write the lower port first", p.MinPort, p.MaxPort)
	}
}

// cidrList checks an optional list of CIDRs or addresses.
func (v *validator) cidrList(field string, l *[]string) {
	if l == nil {
		return
	}
	for i, c := range *l {
		v.cidrOrIP(indexed(field, i), c, anyFamily)
	}
}

// routeTables checks a routing table ID range: 1..hi, min <= max, and not
// covering the kernel's reserved tables 253-255.
func (v *validator) routeTables(field string, lo, hi, limit int) {
	if lo < 1 || hi > limit || lo > hi {
		v.addf(field, "%d-%d is not a valid range; use 1 <= min <= max <= %d", lo, hi, limit)
		return
	}
	for _, t := range reservedTables {
		if lo <= t && t <= hi {
			v.addf(field, "%d-%d includes reserved table %d (253 default, 254 main, 255 local); choose a range that avoids 253-255", lo, hi, t)
			return
		}
	}
}
