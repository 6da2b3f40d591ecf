package v3

import (
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// KindBGPConfiguration is the BGPConfiguration kind.
const KindBGPConfiguration = "BGPConfiguration"

// Runtime defaults used by the BGP agent when the "default" BGPConfiguration
// (or the field) is absent. Calico does not write them into the resource,
// and neither does Default.
const (
	DefaultASNumber       numorstring.ASNumber = 64512
	DefaultBGPLogSeverity                      = "Info"
	DefaultNodeToNodeMesh                      = true
	DefaultBGPListenPort                       = 179
	// BGPConfigurationDefault names the cluster-wide BGPConfiguration;
	// per-node ones are named "node.<nodename>" (any other name is accepted,
	// as in Calico, but nothing reads it).
	BGPConfigurationDefault = "default"
)

// BGPConfiguration holds BGP settings: the cluster-wide ones in the resource
// named "default", per-node overrides in resources named "node.<nodename>".
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
type BGPConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec BGPConfigurationSpec `json:"spec,omitempty"`
}

// BindMode says which addresses the BGP agent listens on.
type BindMode string

// Bind modes.
const (
	BindModeNone   BindMode = "None"
	BindModeNodeIP BindMode = "NodeIP"
)

// ServiceLoadBalancerAggregation says whether LoadBalancer service IPs are
// advertised as their whole CIDR (Enabled) or one /32 per service (Disabled).
//
// +kubebuilder:validation:Enum=Enabled;Disabled
type ServiceLoadBalancerAggregation string

// Service load-balancer aggregation modes.
const (
	ServiceLoadBalancerAggregationEnabled  ServiceLoadBalancerAggregation = "Enabled"
	ServiceLoadBalancerAggregationDisabled ServiceLoadBalancerAggregation = "Disabled"
)

// BGPConfigurationSpec is the BGP configuration.
type BGPConfigurationSpec struct {
	// LogSeverityScreen is the BGP agent's log level (default Info).
	LogSeverityScreen string `json:"logSeverityScreen,omitempty"`
	// NodeToNodeMeshEnabled turns the full node-to-node mesh on or off
	// (default true; "default" resource only).
	NodeToNodeMeshEnabled *bool `json:"nodeToNodeMeshEnabled,omitempty"`
	// ASNumber is the AS number of nodes that set none (default 64512).
	ASNumber *numorstring.ASNumber `json:"asNumber,omitempty"`
	// ServiceLoadBalancerIPs are the ranges LoadBalancer ingress IPs are
	// advertised from.
	ServiceLoadBalancerIPs []ServiceLoadBalancerIPBlock `json:"serviceLoadBalancerIPs,omitempty"`
	// ServiceExternalIPs are the ranges Service externalIPs are advertised from.
	ServiceExternalIPs []ServiceExternalIPBlock `json:"serviceExternalIPs,omitempty"`
	// ServiceClusterIPs are the service cluster IP ranges to advertise.
	ServiceClusterIPs []ServiceClusterIPBlock `json:"serviceClusterIPs,omitempty"`
	// ServiceLoadBalancerAggregation: Enabled (default) or Disabled.
	// +kubebuilder:default=Enabled
	ServiceLoadBalancerAggregation *ServiceLoadBalancerAggregation `json:"serviceLoadBalancerAggregation,omitempty"`
	// Communities names BGP community values for use in PrefixAdvertisements.
	Communities []Community `json:"communities,omitempty"`
	// PrefixAdvertisements attaches communities to advertised prefixes.
	PrefixAdvertisements []PrefixAdvertisement `json:"prefixAdvertisements,omitempty"`
	// ListenPort is the BGP port (default 179).
	// +kubebuilder:validation:Minimum:=1
	// +kubebuilder:validation:Maximum:=65535
	ListenPort uint16 `json:"listenPort,omitempty"`
	// NodeMeshPassword is the MD5 password for mesh sessions ("default" only).
	// +optional
	NodeMeshPassword *BGPPassword `json:"nodeMeshPassword,omitempty"`
	// NodeMeshMaxRestartTime is the graceful-restart time for mesh sessions
	// ("default" only; the agent's default is 120s).
	// +optional
	NodeMeshMaxRestartTime *metav1.Duration `json:"nodeMeshMaxRestartTime,omitempty"`
	// BindMode None listens on all addresses; NodeIP only on the node's BGP address.
	// +optional
	BindMode *BindMode `json:"bindMode,omitempty"`
	// IgnoredInterfaces are interfaces whose routes are not exported
	// (shell-style globs allowed).
	// +optional
	IgnoredInterfaces []string `json:"ignoredInterfaces,omitempty"`
	// LocalWorkloadPeeringIPV4 is the virtual IPv4 address local workloads
	// peer with (link-local recommended).
	// +optional
	LocalWorkloadPeeringIPV4 string `json:"localWorkloadPeeringIPV4,omitempty"`
	// LocalWorkloadPeeringIPV6 is the IPv6 counterpart.
	// +optional
	LocalWorkloadPeeringIPV6 string `json:"localWorkloadPeeringIPV6,omitempty"`
}

// ServiceLoadBalancerIPBlock is one LoadBalancer IP range.
type ServiceLoadBalancerIPBlock struct {
	// CIDR is the range.
	CIDR string `json:"cidr,omitempty"`
}

// ServiceExternalIPBlock is one external IP range.
type ServiceExternalIPBlock struct {
	// CIDR is the range.
	CIDR string `json:"cidr,omitempty"`
}

// ServiceClusterIPBlock is one cluster IP range.
type ServiceClusterIPBlock struct {
	// CIDR is the range.
	CIDR string `json:"cidr,omitempty"`
}

// Community gives a name to a standard ("aa:nn") or large ("aa:nn:mm")
// BGP community value.
type Community struct {
	// Name is how PrefixAdvertisements refer to the value.
	Name string `json:"name,omitempty"`
	// Value is "aa:nn" (16-bit parts) or "aa:nn:mm" (32-bit parts).
	// +kubebuilder:validation:Pattern=`^(\d+):(\d+)$|^(\d+):(\d+):(\d+)$`
	Value string `json:"value,omitempty"`
}

// PrefixAdvertisement attaches communities to routes within a CIDR.
type PrefixAdvertisement struct {
	// CIDR is the prefix the communities apply to.
	CIDR string `json:"cidr,omitempty"`
	// Communities are community names from spec.communities or literal values.
	Communities []string `json:"communities,omitempty"`
}

// BGPConfigurationList is a list of BGPConfigurations.
//
// +kubebuilder:object:root=true
type BGPConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPConfiguration `json:"items"`
}

// NewBGPConfiguration returns an empty BGPConfiguration with its TypeMeta set.
func NewBGPConfiguration() *BGPConfiguration {
	return &BGPConfiguration{TypeMeta: typeMeta(KindBGPConfiguration)}
}

// NewBGPConfigurationList returns an empty BGPConfigurationList with its TypeMeta set.
func NewBGPConfigurationList() *BGPConfigurationList {
	return &BGPConfigurationList{TypeMeta: typeMeta(KindBGPConfiguration + "List")}
}

// Default applies the one default Calico's schema declares for this kind:
// serviceLoadBalancerAggregation Enabled. The other documented defaults
// (asNumber 64512, mesh on, log level Info, port 179) are applied at run time
// by the BGP agent when the field is unset; see the Default* constants.
func (c *BGPConfiguration) Default() {
	if c.Spec.ServiceLoadBalancerAggregation == nil {
		a := ServiceLoadBalancerAggregationEnabled
		c.Spec.ServiceLoadBalancerAggregation = &a
	}
}

var (
	stdCommunityRE   = regexp.MustCompile(`^(\d+):(\d+)$`)
	largeCommunityRE = regexp.MustCompile(`^(\d+):(\d+):(\d+)$`)
	ignoredIfaceRE   = regexp.MustCompile(`^[a-zA-Z0-9_.*?\[\]-]{1,15}$`)
)

// Validate checks names, log level, service CIDRs, communities, prefix
// advertisements, addresses, and that mesh-only settings appear only on the
// "default" resource.
func (c *BGPConfiguration) Validate() error {
	v := newValidator(KindBGPConfiguration, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	s := &c.Spec
	isDefault := c.Name == BGPConfigurationDefault
	v.logLevel("spec.logSeverityScreen", s.LogSeverityScreen)
	if !isDefault {
		if s.NodeToNodeMeshEnabled != nil {
			v.addf("spec.nodeToNodeMeshEnabled", "can only be set on the %q BGPConfiguration; move it there", BGPConfigurationDefault)
		}
		if s.NodeMeshPassword != nil {
			v.addf("spec.nodeMeshPassword", "can only be set on the %q BGPConfiguration; move it there", BGPConfigurationDefault)
		}
		if s.NodeMeshMaxRestartTime != nil {
			v.addf("spec.nodeMeshMaxRestartTime", "can only be set on the %q BGPConfiguration; move it there", BGPConfigurationDefault)
		}
	}
	meshOff := s.NodeToNodeMeshEnabled != nil && !*s.NodeToNodeMeshEnabled
	if meshOff && s.NodeMeshPassword != nil {
		v.addf("spec.nodeMeshPassword", "has no effect with nodeToNodeMeshEnabled false; enable the mesh or remove the password")
	}
	if meshOff && s.NodeMeshMaxRestartTime != nil {
		v.addf("spec.nodeMeshMaxRestartTime", "has no effect with nodeToNodeMeshEnabled false; enable the mesh or remove it")
	}
	s.NodeMeshPassword.validate(v, "spec.nodeMeshPassword")
	v.duration("spec.nodeMeshMaxRestartTime", s.NodeMeshMaxRestartTime)
	for i, b := range s.ServiceLoadBalancerIPs {
		v.cidrOrIP(indexed("spec.serviceLoadBalancerIPs", i)+".cidr", b.CIDR, anyFamily)
	}
	for i, b := range s.ServiceExternalIPs {
		v.cidrOrIP(indexed("spec.serviceExternalIPs", i)+".cidr", b.CIDR, anyFamily)
	}
	for i, b := range s.ServiceClusterIPs {
		v.cidrOrIP(indexed("spec.serviceClusterIPs", i)+".cidr", b.CIDR, anyFamily)
	}
	if s.ServiceLoadBalancerAggregation != nil {
		v.oneOf("spec.serviceLoadBalancerAggregation", string(*s.ServiceLoadBalancerAggregation), "Enabled", "Disabled")
	}
	names := map[string]bool{}
	for i, cm := range s.Communities {
		f := indexed("spec.communities", i)
		if cm.Name == "" {
			v.addf(f+".name", "is required; give the community a name to refer to it by")
		} else if !dns1123Subdomain.MatchString(cm.Name) {
			v.addf(f+".name", "%q is not a valid name; use lower-case letters, digits, '-' and '.'", cm.Name)
		}
		names[cm.Name] = true
		if cm.Value == "" {
			v.addf(f+".value", "is required; use aa:nn or aa:nn:mm")
		} else if msg := communityProblem(cm.Value); msg != "" {
			v.addf(f+".value", "%s", msg)
		}
	}
	for i, pa := range s.PrefixAdvertisements {
		f := indexed("spec.prefixAdvertisements", i)
		if pa.CIDR == "" {
			v.addf(f+".cidr", "is required; set the prefix the communities apply to")
		} else {
			v.cidrOrIP(f+".cidr", pa.CIDR, anyFamily)
		}
		if len(pa.Communities) == 0 {
			v.addf(f+".communities", "is required; list community names or aa:nn / aa:nn:mm values")
		}
		for j, cm := range pa.Communities {
			if names[cm] {
				continue
			}
			if stdCommunityRE.MatchString(cm) || largeCommunityRE.MatchString(cm) {
				if msg := communityProblem(cm); msg != "" {
					v.addf(indexed(f+".communities", j), "%s", msg)
				}
				continue
			}
			v.addf(indexed(f+".communities", j), "%q is neither a community defined in spec.communities nor an aa:nn / aa:nn:mm value", cm)
		}
	}
	if s.BindMode != nil {
		v.oneOf("spec.bindMode", string(*s.BindMode), string(BindModeNone), string(BindModeNodeIP))
	}
	for i, iface := range s.IgnoredInterfaces {
		if !ignoredIfaceRE.MatchString(iface) {
			v.addf(indexed("spec.ignoredInterfaces", i), "%q is not an interface name or glob; use at most 15 characters such as eth* or tap[0-9]", iface)
		}
	}
	if s.LocalWorkloadPeeringIPV4 != "" {
		v.ip("spec.localWorkloadPeeringIPV4", s.LocalWorkloadPeeringIPV4, ipv4Only)
	}
	if s.LocalWorkloadPeeringIPV6 != "" {
		v.ip("spec.localWorkloadPeeringIPV6", s.LocalWorkloadPeeringIPV6, ipv6Only)
	}
	return v.result()
}

// communityProblem returns what is wrong with a community value, or "".
func communityProblem(s string) string {
	if m := stdCommunityRE.FindStringSubmatch(s); m != nil {
		if !fitsBits(m[1], 16) || !fitsBits(m[2], 16) {
			return "standard community " + s + " has a part above 65535; each part of aa:nn is 16 bits (use aa:nn:mm for a large community)"
		}
		return ""
	}
	if m := largeCommunityRE.FindStringSubmatch(s); m != nil {
		if !fitsBits(m[1], 32) || !fitsBits(m[2], 32) || !fitsBits(m[3], 32) {
			return "large community " + s + " has a part above 4294967295; each part of aa:nn:mm is 32 bits"
		}
		return ""
	}
	return "\"" + s + "\" is not a community value; use aa:nn (standard) or aa:nn:mm (large)"
}
