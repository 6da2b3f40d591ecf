package v3

import (
	"strings"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

// This file checks the rule schema (Rule, EntityRule, ICMPFields, HTTPMatch,
// RuleMetadata) the way Calico v3.30's validator does, with messages that
// name the field path and the fix. The policy kinds and Profile call
// v.policyRules for each of their ingress and egress lists.

// ruleScope says where a rule list lives; a few checks depend on it.
type ruleScope int

const (
	// scopeNamespaced: NetworkPolicy, StagedNetworkPolicy.
	scopeNamespaced ruleScope = iota
	// scopeGlobal: GlobalNetworkPolicy, StagedGlobalNetworkPolicy.
	scopeGlobal
	// scopeProfile: Profile (no direction-specific checks, as in Calico).
	scopeProfile
)

// globalSelectorFn is the selector function that means "non-namespaced
// resources" and is only valid as a whole rule namespaceSelector.
const globalSelectorFn = "global()"

// policyRules checks an ingress or egress rule list; field is e.g. "spec.ingress".
func (v *validator) policyRules(field string, rules []Rule, dir PolicyType, scope ruleScope) {
	for i := range rules {
		v.policyRule(indexed(field, i), &rules[i], dir, scope)
	}
}

// policyRule checks one rule; p is its path, e.g. "spec.ingress[0]".
func (v *validator) policyRule(p string, r *Rule, dir PolicyType, scope ruleScope) {
	v.ruleAction(p+".action", r.Action)
	if r.IPVersion != nil && *r.IPVersion != 4 && *r.IPVersion != 6 {
		v.addf(p+".ipVersion", "%d is not an IP version; use 4 or 6 (or omit it to match both)", *r.IPVersion)
	}
	v.ruleProtocol(p+".protocol", r.Protocol)
	v.ruleProtocol(p+".notProtocol", r.NotProtocol)
	v.rulePorts(p, r)
	v.ruleICMP(p, r)
	v.ruleNets(p, r)
	v.entityRule(p+".source", &r.Source)
	v.entityRule(p+".destination", &r.Destination)
	v.ruleHTTP(p, r)
	if r.Metadata != nil {
		v.polAnnotations(p+".metadata.annotations", r.Metadata.Annotations)
	}

	// Service matches use the service's own endpoints and ports.
	if r.Destination.Services != nil {
		if len(r.Destination.Ports) > 0 {
			v.addf(p+".destination.ports", "cannot be combined with destination.services (the service's own ports are used); remove the ports or match by selector instead")
		}
		if len(r.Destination.NotPorts) > 0 {
			v.addf(p+".destination.notPorts", "cannot be combined with destination.services; remove notPorts or match by selector instead")
		}
	}
	if scope == scopeProfile {
		return
	}
	switch dir {
	case PolicyTypeEgress:
		if r.Source.Services != nil {
			v.addf(p+".source.services", "is not allowed in an egress rule (the source is the policy's own endpoint); use destination.services")
		}
		if r.HTTP != nil {
			v.addf(p+".http", "HTTP matches are not allowed in egress rules; move the rule to ingress")
		}
	case PolicyTypeIngress:
		if r.Destination.Services != nil {
			v.addf(p+".destination.services", "is not allowed in an ingress rule (the destination is the policy's own endpoint); use source.services")
		}
	}
	if scope == scopeGlobal {
		// A global policy has no namespace to resolve a bare service name in.
		if dir == PolicyTypeEgress && r.Destination.Services != nil && r.Destination.Services.Namespace == "" {
			v.addf(p+".destination.services.namespace", "is required in a global policy; set the service's namespace")
		}
		if dir == PolicyTypeIngress && r.Source.Services != nil && r.Source.Services.Namespace == "" {
			v.addf(p+".source.services.namespace", "is required in a global policy; set the service's namespace")
		}
	}
}

// ruleAction checks the action is one of Calico's four, spelled exactly.
func (v *validator) ruleAction(field string, a Action) {
	switch a {
	case Allow, Deny, Log, Pass:
		return
	case "":
		v.addf(field, "is required; use Allow, Deny, Log or Pass")
		return
	}
	for _, ok := range []Action{Allow, Deny, Log, Pass} {
		if strings.EqualFold(string(a), string(ok)) {
			v.addf(field, "%q is not valid; actions are case-sensitive, write %q", a, ok)
			return
		}
	}
	v.addf(field, "%q is not valid; use Allow, Deny, Log or Pass", a)
}

// ruleProtocol checks a protocol is a known name or a number 1-255.
func (v *validator) ruleProtocol(field string, p *numorstring.Protocol) {
	if p == nil {
		return
	}
	if n, err := p.NumValue(); err == nil {
		if n == 0 {
			v.addf(field, "protocol number 0 is not valid; use 1-255 or a name (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite)")
		}
		return
	}
	if p.IsValidName() {
		return
	}
	if c := numorstring.ProtocolFromString(p.StrVal); c.IsValidName() {
		v.addf(field, "%q is not valid; protocol names are case-sensitive, write %q", p.StrVal, c.StrVal)
		return
	}
	v.addf(field, "%q is not a protocol; use TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255", p.StrVal)
}

// rulePorts checks every port list and that the rule's protocol has ports.
func (v *validator) rulePorts(p string, r *Rule) {
	lists := []struct {
		field string
		ports []numorstring.Port
	}{
		{p + ".source.ports", r.Source.Ports},
		{p + ".source.notPorts", r.Source.NotPorts},
		{p + ".destination.ports", r.Destination.Ports},
		{p + ".destination.notPorts", r.Destination.NotPorts},
	}
	for _, l := range lists {
		if len(l.ports) == 0 {
			continue
		}
		for i, port := range l.ports {
			v.rulePort(indexed(l.field, i), port)
		}
		switch {
		case r.Protocol == nil:
			v.addf(l.field, "ports need protocol TCP, UDP or SCTP; set %s.protocol", p)
		case !r.Protocol.SupportsPorts():
			v.addf(l.field, "protocol %s has no ports; use protocol TCP, UDP or SCTP in %s.protocol, or remove the ports", r.Protocol, p)
		}
	}
}

// rulePort checks one port value (the JSON decoder already rejected
// malformed text; this catches values built in Go and port 0).
func (v *validator) rulePort(field string, port numorstring.Port) {
	switch {
	case port.PortName != "":
		if port.MinPort != 0 || port.MaxPort != 0 {
			v.addf(field, "named port %q must not also carry numbers", port.PortName)
		}
	case port.MinPort > port.MaxPort:
		v.addf(field, "port range %d:%d is backwards; write the lower port first (%d:%d)", port.MinPort, port.MaxPort, port.MaxPort, port.MinPort)
	case port.MinPort < 1:
		v.addf(field, "%s is not a valid port; port numbers are 1-65535", port)
	}
}

// ruleICMP checks icmp/notICMP values, that icmp comes with an ICMP
// protocol, and that an ICMP protocol agrees with ipVersion.
func (v *validator) ruleICMP(p string, r *Rule) {
	v.icmpFields(p+".icmp", r.ICMP)
	v.icmpFields(p+".notICMP", r.NotICMP)
	isICMP := func(pr *numorstring.Protocol, name string) bool { return pr != nil && pr.Is(name) }
	if r.ICMP != nil && !isICMP(r.Protocol, numorstring.ProtocolICMP) && !isICMP(r.Protocol, numorstring.ProtocolICMPv6) {
		v.addf(p+".icmp", "icmp needs protocol ICMP or ICMPv6; set %s.protocol", p)
	}
	if r.IPVersion == nil {
		return
	}
	if (isICMP(r.Protocol, numorstring.ProtocolICMP) || isICMP(r.NotProtocol, numorstring.ProtocolICMP)) && *r.IPVersion != 4 {
		v.addf(p+".ipVersion", "ipVersion %d does not match protocol ICMP (IPv4 only); use ipVersion 4, or protocol ICMPv6 for IPv6", *r.IPVersion)
	}
	if (isICMP(r.Protocol, numorstring.ProtocolICMPv6) || isICMP(r.NotProtocol, numorstring.ProtocolICMPv6)) && *r.IPVersion != 6 {
		v.addf(p+".ipVersion", "ipVersion %d does not match protocol ICMPv6 (IPv6 only); use ipVersion 6, or protocol ICMP for IPv4", *r.IPVersion)
	}
}

// icmpFields checks ICMP type 0-254 and code 0-255 (code needs type).
func (v *validator) icmpFields(field string, f *ICMPFields) {
	if f == nil {
		return
	}
	if f.Type != nil && (*f.Type < 0 || *f.Type > 254) {
		v.addf(field+".type", "%d is out of range; ICMP types are 0-254", *f.Type)
	}
	if f.Code != nil && (*f.Code < 0 || *f.Code > 255) {
		v.addf(field+".code", "%d is out of range; ICMP codes are 0-255", *f.Code)
	}
	if f.Code != nil && f.Type == nil {
		v.addf(field+".code", "an ICMP code needs a type (kernel limitation); set %s.type", field)
	}
}

// ruleNets checks every nets/notNets CIDR, that they agree with ipVersion,
// and that one rule does not mix IPv4 and IPv6 CIDRs.
func (v *validator) ruleNets(p string, r *Rule) {
	var seen4, seen6 bool
	for _, l := range []struct {
		field string
		nets  []string
	}{
		{p + ".source.nets", r.Source.Nets},
		{p + ".source.notNets", r.Source.NotNets},
		{p + ".destination.nets", r.Destination.Nets},
		{p + ".destination.notNets", r.Destination.NotNets},
	} {
		var has4, has6 bool
		for i, s := range l.nets {
			n := v.cidr(indexed(l.field, i), s)
			if n == nil {
				continue
			}
			if IsIPv4Net(n) {
				has4 = true
			} else {
				has6 = true
			}
		}
		if r.IPVersion != nil && ((has4 && *r.IPVersion != 4) || (has6 && *r.IPVersion != 6)) {
			v.addf(l.field, "CIDR family does not match %s.ipVersion %d; use IPv%d CIDRs or change ipVersion", p, *r.IPVersion, *r.IPVersion)
		}
		if (has4 && has6) || (has4 && seen6) || (has6 && seen4) {
			v.addf(l.field, "the rule mixes IPv4 and IPv6 CIDRs, which can never both match one packet; split it into one rule per IP version")
		}
		seen4 = seen4 || has4
		seen6 = seen6 || has6
	}
}

// entityRule checks the selectors and the service and service-account
// matches of one side of a rule.
func (v *validator) entityRule(p string, e *EntityRule) {
	v.policySelector(p+".selector", e.Selector)
	v.policySelector(p+".notSelector", e.NotSelector)
	v.policySelector(p+".namespaceSelector", e.NamespaceSelector)
	if strings.Contains(e.Selector, "global(") {
		v.addf(p+".selector", "global() is only valid as a whole namespaceSelector; move it to %s.namespaceSelector", p)
	}
	if strings.Contains(e.NotSelector, "global(") {
		v.addf(p+".notSelector", "global() is only valid as a whole namespaceSelector; move it to %s.namespaceSelector", p)
	}
	if ns := strings.TrimSpace(e.NamespaceSelector); strings.Contains(ns, "global(") && ns != globalSelectorFn {
		v.addf(p+".namespaceSelector", "global() cannot be combined with other selector terms; use namespaceSelector: global() on its own and put the label match in selector")
	}
	if sa := e.ServiceAccounts; sa != nil {
		v.policySelector(p+".serviceAccounts.selector", sa.Selector)
		for i, n := range sa.Names {
			if n == "" || !dns1123Subdomain.MatchString(n) || len(n) > 253 {
				v.addf(indexed(p+".serviceAccounts.names", i), "%q is not a valid service account name; use a lower-case DNS-1123 name", n)
			}
		}
	}
	if s := e.Services; s != nil {
		if s.Name == "" {
			v.addf(p+".services.name", "is required; name the Kubernetes Service to match")
		} else if !dns1123Subdomain.MatchString(s.Name) {
			v.addf(p+".services.name", "%q is not a valid service name; use a lower-case DNS-1123 name", s.Name)
		}
		if s.Namespace != "" && !dns1123Subdomain.MatchString(s.Namespace) {
			v.addf(p+".services.namespace", "%q is not a valid namespace name; use a lower-case DNS-1123 label", s.Namespace)
		}
		var others []string
		if e.NamespaceSelector != "" {
			others = append(others, "namespaceSelector")
		}
		if e.Selector != "" || e.NotSelector != "" {
			others = append(others, "selector/notSelector")
		}
		if e.ServiceAccounts != nil {
			others = append(others, "serviceAccounts")
		}
		if len(e.Nets) > 0 || len(e.NotNets) > 0 {
			others = append(others, "nets/notNets")
		}
		if len(others) > 0 {
			v.addf(p+".services", "cannot be combined with %s on the same side of a rule; use a separate rule", strings.Join(others, ", "))
		}
	}
}

// ruleHTTP checks application-layer matches: Allow rules only, protocol TCP
// (or unset), unique methods, and well-formed path matches.
func (v *validator) ruleHTTP(p string, r *Rule) {
	h := r.HTTP
	if h == nil {
		return
	}
	if r.Action != Allow && r.Action != "" {
		v.addf(p+".http", "HTTP matches are only valid in Allow rules, not %s; set %s.action: Allow or remove http", r.Action, p)
	}
	if r.Protocol != nil && !r.Protocol.Is(numorstring.ProtocolTCP) {
		v.addf(p+".protocol", "rules with http must use protocol TCP (or leave protocol unset), not %s", r.Protocol)
	}
	seen := map[string]bool{}
	for i, m := range h.Methods {
		if seen[m] {
			v.addf(indexed(p+".http.methods", i), "method %q is listed twice; remove the duplicate", m)
		}
		seen[m] = true
	}
	for i, path := range h.Paths {
		f := indexed(p+".http.paths", i)
		val := path.Exact
		switch {
		case path.Exact != "" && path.Prefix != "":
			v.addf(f, "set either exact or prefix, not both")
			continue
		case path.Exact == "" && path.Prefix == "":
			v.addf(f, "set exact or prefix, e.g. exact: /healthz")
			continue
		case val == "":
			val = path.Prefix
		}
		if !strings.HasPrefix(val, "/") || strings.ContainsAny(val, "? #") {
			v.addf(f, "path %q must start with '/' and contain no '?', '#' or spaces", val)
		}
	}
}
