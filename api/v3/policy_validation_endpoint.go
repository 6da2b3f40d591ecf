package v3

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// This file validates the kinds that policy selects or groups: Tier,
// Profile, HostEndpoint, WorkloadEndpoint, NetworkSet and GlobalNetworkSet.

var (
	endpointIfaceRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)
	containerIDRE   = regexp.MustCompile(`^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`)
)

// Validate checks the tier's name (no dots: it prefixes policy names), its
// default action, and the fixed order of the well-known tiers.
func (t *Tier) Validate() error {
	v := newValidator(KindTier, &t.ObjectMeta)
	switch {
	case t.Name == "":
		v.addf("metadata.name", "is required; set a lower-case name such as \"security\"")
	case len(t.Name) > 63:
		v.addf("metadata.name", "is %d characters, over the 63 limit for tier names; shorten it", len(t.Name))
	case !tierNameRE.MatchString(t.Name):
		v.addf("metadata.name", "%q is not a valid tier name; use lower-case letters, digits and '-' only (no '.', since policy names are \"<tier>.<name>\")", t.Name)
	}
	if t.Namespace != "" {
		v.addf("metadata.namespace", "must be empty: Tier is cluster-scoped; remove the namespace")
	}
	v.polMeta(&t.ObjectMeta)
	if a := t.Spec.DefaultAction; a != nil && *a != Deny && *a != Pass {
		v.addf("spec.defaultAction", "%q is not valid for a tier; use Deny (default) or Pass", *a)
	}
	if want, ok := wellKnownTierOrder(t.Name); ok && (t.Spec.Order == nil || *t.Spec.Order != want) {
		got := "unset"
		if t.Spec.Order != nil {
			got = fmt.Sprint(*t.Spec.Order)
		}
		v.addf("spec.order", "the %q tier's order is fixed at %v (got %s); set spec.order: %v or omit it", t.Name, want, got, want)
	}
	return v.result()
}

// Validate checks the profile's name, labelsToApply and rules.
func (p *Profile) Validate() error {
	v := newValidator(KindProfile, &p.ObjectMeta)
	v.name(&p.ObjectMeta, false)
	v.polMeta(&p.ObjectMeta)
	v.polLabels("spec.labelsToApply", p.Spec.LabelsToApply)
	v.policyRules("spec.ingress", p.Spec.Ingress, PolicyTypeIngress, scopeProfile)
	v.policyRules("spec.egress", p.Spec.Egress, PolicyTypeEgress, scopeProfile)
	return v.result()
}

// Validate checks the host endpoint: node, interfaceName or expectedIPs,
// profile names and named ports.
func (h *HostEndpoint) Validate() error {
	v := newValidator(KindHostEndpoint, &h.ObjectMeta)
	v.name(&h.ObjectMeta, false)
	v.polMeta(&h.ObjectMeta)
	s := &h.Spec
	if s.Node == "" {
		v.addf("spec.node", "is required; set the name of the node the interface is on")
	} else {
		v.resourceName("spec.node", s.Node, "node")
	}
	if s.InterfaceName == "" && len(s.ExpectedIPs) == 0 {
		v.addf("spec.interfaceName", "set interfaceName (or \"*\" for all of the node's interfaces), expectedIPs, or both")
	}
	if s.InterfaceName != "" && s.InterfaceName != "*" && !endpointIfaceRE.MatchString(s.InterfaceName) {
		v.addf("spec.interfaceName", "%q is not a valid interface name; use at most 15 letters, digits, '_', '.' or '-', or \"*\"", s.InterfaceName)
	}
	for i, ip := range s.ExpectedIPs {
		if net.ParseIP(ip) == nil {
			v.addf(indexed("spec.expectedIPs", i), "%q is not an IP address; write a plain address such as 192.0.2.10", ip)
		}
	}
	v.profileNames("spec.profiles", s.Profiles)
	for i, port := range s.Ports {
		f := indexed("spec.ports", i)
		if port.Name == "" {
			v.addf(f+".name", "is required; host endpoint ports are named ports that rules refer to")
		} else {
			v.portName(f+".name", port.Name)
		}
		v.endpointPortProtocol(f+".protocol", port.Protocol)
		if port.Port == 0 {
			v.addf(f+".port", "is required; use 1-65535")
		}
	}
	return v.result()
}

// Validate checks the workload endpoint: the name matches the identifying
// fields (as Calico computes it), interfaceName, addresses, gateways, NATs,
// MAC and ports.
func (w *WorkloadEndpoint) Validate() error {
	v := newValidator(KindWorkloadEndpoint, &w.ObjectMeta)
	v.name(&w.ObjectMeta, true)
	v.polMeta(&w.ObjectMeta)
	s := &w.Spec
	for _, f := range []struct{ field, val string }{
		{"spec.orchestrator", s.Orchestrator}, {"spec.workload", s.Workload}, {"spec.node", s.Node},
		{"spec.pod", s.Pod}, {"spec.endpoint", s.Endpoint}, {"spec.serviceAccountName", s.ServiceAccountName},
	} {
		if f.val != "" {
			v.resourceName(f.field, f.val, strings.TrimPrefix(f.field, "spec."))
		}
	}
	if s.ContainerID != "" && !containerIDRE.MatchString(s.ContainerID) {
		v.addf("spec.containerID", "%q is not a valid container ID; use letters, digits and '-'", s.ContainerID)
	}
	if want, err := s.ExpectedName(); err != nil {
		v.addf(err.field, "%s", err.detail)
	} else if w.Name != "" && w.Name != want {
		v.addf("metadata.name", "%q does not match the endpoint's identifiers; name it %q (<node>-<orchestrator>-<workload>-<endpoint>, each '-' inside a part doubled)", w.Name, want)
	}
	if s.InterfaceName == "" {
		v.addf("spec.interfaceName", "is required; set the host-side interface, e.g. \"cali0123456789a\"")
	} else if s.InterfaceName != "*" && !endpointIfaceRE.MatchString(s.InterfaceName) {
		v.addf("spec.interfaceName", "%q is not a valid interface name; use at most 15 letters, digits, '_', '.' or '-'", s.InterfaceName)
	}
	var nets []*net.IPNet
	for i, n := range s.IPNetworks {
		f := indexed("spec.ipNetworks", i)
		ipn := v.addrOrCIDR(f, n, true)
		if ipn == nil {
			continue
		}
		if ones, bits := ipn.Mask.Size(); ones != bits {
			v.addf(f, "%q holds more than one address; a workload's ipNetworks must be /32 (IPv4) or /128 (IPv6)", n)
			continue
		}
		nets = append(nets, ipn)
	}
	v.gateway("spec.ipv4Gateway", s.IPv4Gateway, 4)
	v.gateway("spec.ipv6Gateway", s.IPv6Gateway, 6)
	for i, nat := range s.IPNATs {
		f := indexed("spec.ipNATs", i)
		in := v.addrOrCIDR(f+".internalIP", nat.InternalIP, false)
		ex := v.addrOrCIDR(f+".externalIP", nat.ExternalIP, false)
		if in == nil || ex == nil {
			continue
		}
		if IsIPv4Net(in) != IsIPv4Net(ex) {
			v.addf(f+".externalIP", "%s and internal IP %s are different IP versions; map IPv4 to IPv4 and IPv6 to IPv6", nat.ExternalIP, nat.InternalIP)
		}
		if !containsIP(nets, in.IP) {
			v.addf(f+".internalIP", "%s is not one of the endpoint's ipNetworks; add it to spec.ipNetworks or fix the NAT", nat.InternalIP)
		}
	}
	v.profileNames("spec.profiles", s.Profiles)
	if s.MAC != "" {
		if _, err := net.ParseMAC(s.MAC); err != nil {
			v.addf("spec.mac", "%q is not a MAC address; write it as ee:ee:ee:ee:ee:ee", s.MAC)
		}
	}
	for i, port := range s.Ports {
		f := indexed("spec.ports", i)
		if port.Name != "" {
			v.portName(f+".name", port.Name)
		} else if port.HostPort == 0 {
			v.addf(f+".name", "is required unless hostPort is set; name the port or map it to a hostPort")
		}
		v.endpointPortProtocol(f+".protocol", port.Protocol)
		if port.Port == 0 {
			v.addf(f+".port", "is required; use 1-65535")
		}
		if port.HostIP != "" {
			v.addrOrCIDR(f+".hostIP", port.HostIP, true)
		}
	}
	for i, c := range s.AllowSpoofedSourcePrefixes {
		v.addrOrCIDR(indexed("spec.allowSpoofedSourcePrefixes", i), c, false)
	}
	return v.result()
}

// wepNameError is a problem computing a workload endpoint's expected name.
type wepNameError struct{ field, detail string }

// ExpectedName returns the name Calico requires for a workload endpoint with
// these identifiers: "<node>-<orchestrator>-<id>-<endpoint>", where id is
// the pod (orchestrator k8s), the container ID (cni), the orchestrator
// again (libnetwork) or the workload (anything else), and every '-' inside
// a part is doubled. It fails, naming the field, if a part is missing or
// starts or ends with '-'.
func (s *WorkloadEndpointSpec) ExpectedName() (string, *wepNameError) {
	type part struct{ field, val string }
	id := part{"spec.workload", s.Workload}
	switch s.Orchestrator {
	case "k8s":
		id = part{"spec.pod", s.Pod}
	case "cni":
		id = part{"spec.containerID", s.ContainerID}
	case "libnetwork":
		id = part{"spec.orchestrator", s.Orchestrator}
	}
	parts := []part{{"spec.node", s.Node}, {"spec.orchestrator", s.Orchestrator}, id, {"spec.endpoint", s.Endpoint}}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		switch {
		case p.val == "":
			return "", &wepNameError{p.field, "is required: it is part of the endpoint's name (<node>-<orchestrator>-<workload>-<endpoint>)"}
		case strings.HasPrefix(p.val, "-") || strings.HasSuffix(p.val, "-"):
			return "", &wepNameError{p.field, fmt.Sprintf("%q must not start or end with '-' (it is part of the endpoint's name)", p.val)}
		}
		out = append(out, strings.ReplaceAll(p.val, "-", "--"))
	}
	return strings.Join(out, "-"), nil
}

// networkSetNets checks a network set's nets: CIDRs (host bits allowed, as in
// Calico) or single addresses.
func (v *validator) networkSetNets(nets []string) {
	for i, n := range nets {
		v.addrOrCIDR(indexed("spec.nets", i), n, false)
	}
}

// reservedNamespaceLabel is the label Calico uses internally to carry a
// namespace through to the data model; users may not set it.
const reservedNamespaceLabel = "projectcalico.org/namespace"

// noReservedNamespaceLabel rejects the internal namespace label.
func (v *validator) noReservedNamespaceLabel(labels map[string]string) {
	if _, ok := labels[reservedNamespaceLabel]; ok {
		v.addf("metadata.labels", "%s is reserved for Calico's internal use; remove that label", reservedNamespaceLabel)
	}
}

// Validate checks the network set's name, labels and nets.
func (n *NetworkSet) Validate() error {
	v := newValidator(KindNetworkSet, &n.ObjectMeta)
	v.name(&n.ObjectMeta, true)
	v.polMeta(&n.ObjectMeta)
	v.noReservedNamespaceLabel(n.Labels)
	v.networkSetNets(n.Spec.Nets)
	return v.result()
}

// Validate checks the global network set's name, labels and nets.
func (n *GlobalNetworkSet) Validate() error {
	v := newValidator(KindGlobalNetworkSet, &n.ObjectMeta)
	v.name(&n.ObjectMeta, false)
	v.polMeta(&n.ObjectMeta)
	v.noReservedNamespaceLabel(n.Labels)
	v.networkSetNets(n.Spec.Nets)
	return v.result()
}

// resourceName checks a reference to another resource by name (DNS-1123 subdomain).
func (v *validator) resourceName(field, s, what string) {
	if len(s) > 253 || !dns1123Subdomain.MatchString(s) {
		v.addf(field, "%q is not a valid %s name; use lower-case letters, digits, '-' and '.'", s, what)
	}
}

// profileNames checks a list of profile references.
func (v *validator) profileNames(field string, names []string) {
	for i, n := range names {
		v.resourceName(indexed(field, i), n, "profile")
	}
}

// portName checks a named port is an IANA service name, as Kubernetes
// container port names are.
func (v *validator) portName(field, s string) {
	if errs := k8svalidation.IsValidPortName(s); len(errs) > 0 {
		v.addf(field, "%q is not a valid port name: %s", s, strings.Join(errs, "; "))
	}
}

// endpointPortProtocol checks an endpoint port's protocol has ports.
func (v *validator) endpointPortProtocol(field string, p numorstring.Protocol) {
	if p.Type == numorstring.NumOrStringString && p.StrVal == "" {
		v.addf(field, "is required; use TCP, UDP or SCTP")
		return
	}
	v.ruleProtocol(field, &p)
	if !p.SupportsPorts() {
		v.addf(field, "protocol %s has no ports; use TCP, UDP or SCTP", p)
	}
}

// gateway checks an optional gateway address of the given IP version.
func (v *validator) gateway(field, s string, version int) {
	if s == "" {
		return
	}
	ip := net.ParseIP(s)
	if ip == nil || (ip.To4() != nil) != (version == 4) {
		v.addf(field, "%q is not an IPv%d address; write a plain IPv%d address", s, version, version)
	}
}

// addrOrCIDR parses a bare address (a single-address network) or a CIDR.
// With masked, the CIDR must be the network address (Calico's "net"
// fields); without, host bits are allowed ("cidr" fields).
func (v *validator) addrOrCIDR(field, s string, masked bool) *net.IPNet {
	if !strings.Contains(s, "/") {
		ip := net.ParseIP(s)
		if ip == nil {
			v.addf(field, "%q is not an IP address or CIDR; write e.g. 10.244.1.5 or 10.244.1.5/32", s)
			return nil
		}
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
	}
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		v.addf(field, "%q is not a valid CIDR; write it as address/prefix-length, e.g. 10.244.1.5/32", s)
		return nil
	}
	if masked && !ip.Equal(n.IP) {
		v.addf(field, "%q has host bits set; use the network address %s", s, n)
		return nil
	}
	if !masked {
		n.IP = ip // keep the address itself (a /32 written as 10.0.0.1/24 still names 10.0.0.1)
	}
	return n
}

// containsIP reports whether any of nets contains ip.
func containsIP(nets []*net.IPNet, ip net.IP) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
