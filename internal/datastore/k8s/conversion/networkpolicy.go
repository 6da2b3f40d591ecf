package conversion

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// NetworkPolicyName is the Calico name of a Kubernetes NetworkPolicy.
func NetworkPolicyName(name string) string { return NetworkPolicyPrefix + name }

// NetworkPolicyToCalico converts a Kubernetes NetworkPolicy into the Calico
// NetworkPolicy "knp.default.<name>" in the same namespace, tier default,
// order 1000, with upstream semantics:
//
//   - spec.podSelector selects Kubernetes endpoints of the namespace;
//   - each ingress/egress rule becomes Allow rules, one per (protocol,
//     peer): no peers = any peer, no ports = any protocol and port; ports
//     default to TCP, numeric ports of one protocol merge into ranges,
//     endPort makes a range, named ports stay named;
//   - a peer's podSelector/namespaceSelector combine (nil namespaceSelector
//     = the policy's namespace, {} = all namespaces); ipBlock gives nets
//     with except as notNets;
//   - policyTypes become types; none given means Ingress only;
//   - an empty rule list with its type set denies that direction.
//
// A rule that cannot be converted (a bad port or CIDR) is left out and
// reported in the returned error, alongside the converted policy, so one bad
// rule never opens or closes more than itself.
func NetworkPolicyToCalico(np *networkingv1.NetworkPolicy) (*v3.NetworkPolicy, error) {
	var errs []error
	var ingress, egress []v3.Rule
	for i, r := range np.Spec.Ingress {
		rules, err := convertRule(r.From, r.Ports, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.ingress[%d] left out: %w", i, err))
			continue
		}
		ingress = append(ingress, rules...)
	}
	for i, r := range np.Spec.Egress {
		rules, err := convertRule(r.To, r.Ports, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.egress[%d] left out: %w", i, err))
			continue
		}
		egress = append(egress, rules...)
	}
	var hasIngress, hasEgress bool
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			hasIngress = true
		case networkingv1.PolicyTypeEgress:
			hasEgress = true
		}
	}
	types := []v3.PolicyType{}
	if hasIngress {
		types = append(types, v3.PolicyTypeIngress)
	}
	if hasEgress {
		types = append(types, v3.PolicyTypeEgress)
	}
	if len(types) == 0 {
		// Clusters older than policyTypes: ingress only (upstream default).
		types = []v3.PolicyType{v3.PolicyTypeIngress}
	}
	order := NetworkPolicyOrder
	p := v3.NewNetworkPolicy()
	p.ObjectMeta = metav1.ObjectMeta{
		Name:              NetworkPolicyName(np.Name),
		Namespace:         np.Namespace,
		UID:               np.UID,
		CreationTimestamp: np.CreationTimestamp,
		ResourceVersion:   np.ResourceVersion,
	}
	p.Spec = v3.NetworkPolicySpec{
		Tier:     "default",
		Order:    &order,
		Selector: podSelector(&np.Spec.PodSelector),
		Ingress:  ingress,
		Egress:   egress,
		Types:    types,
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("networkpolicy %s/%s: %w", np.Namespace, np.Name, errors.Join(errs...))
	}
	return p, nil
}

// convertRule turns one Kubernetes rule into Calico Allow rules: one per
// protocol (sorted; "" = any) and peer.
func convertRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, ingress bool) ([]v3.Rule, error) {
	byProto, err := portsByProtocol(ports)
	if err != nil {
		return nil, err
	}
	protos := make([]string, 0, len(byProto))
	for p := range byProto {
		protos = append(protos, p)
	}
	sort.Strings(protos)

	var ends []v3.EntityRule
	for i := range peers {
		e, err := peerEntity(&peers[i])
		if err != nil {
			return nil, err
		}
		ends = append(ends, e)
	}
	if len(ends) == 0 {
		ends = []v3.EntityRule{{}} // no peers: any peer
	}

	var rules []v3.Rule
	for _, proto := range protos {
		var protocol *numorstring.Protocol
		if proto != "" {
			p := numorstring.ProtocolFromString(proto)
			protocol = &p
		}
		dstPorts := simplifyPorts(byProto[proto])
		for _, peer := range ends {
			r := v3.Rule{Action: v3.Allow, Protocol: protocol}
			if ingress {
				r.Source = peer
				r.Destination = v3.EntityRule{Ports: dstPorts}
			} else {
				r.Destination = peer
				r.Destination.Ports = dstPorts
			}
			rules = append(rules, r)
		}
	}
	return rules, nil
}

// portsByProtocol groups a rule's ports by protocol (TCP when unset). No
// ports at all means any protocol and port: {"": nil}. A protocol listed
// without a port number means all its ports (nil), which absorbs the
// numbered ports of that protocol.
func portsByProtocol(ports []networkingv1.NetworkPolicyPort) (map[string][]numorstring.Port, error) {
	if len(ports) == 0 {
		return map[string][]numorstring.Port{"": nil}, nil
	}
	out := map[string][]numorstring.Port{}
	allPorts := map[string]bool{}
	for _, p := range ports {
		proto := string(corev1.ProtocolTCP)
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if p.Port == nil {
			allPorts[proto] = true
			out[proto] = nil
			continue
		}
		port, err := convertPort(p)
		if err != nil {
			return nil, err
		}
		if !allPorts[proto] {
			out[proto] = append(out[proto], port)
		}
	}
	return out, nil
}

// convertPort turns port (+ endPort) into a Calico port or range.
func convertPort(p networkingv1.NetworkPolicyPort) (numorstring.Port, error) {
	s := p.Port.String()
	if p.EndPort != nil {
		s = fmt.Sprintf("%s:%d", s, *p.EndPort)
	}
	port, err := numorstring.ParsePort(s)
	if err != nil {
		return port, fmt.Errorf("port %q: %v", s, err)
	}
	return port, nil
}

// simplifyPorts merges numeric ports and ranges into the fewest ranges, as
// Calico does: named ports first in their given order, then the merged
// numeric ranges sorted; with at most one numeric port the list is kept as
// given.
func simplifyPorts(ports []numorstring.Port) []numorstring.Port {
	if len(ports) <= 1 {
		return ports
	}
	var named []numorstring.Port
	type span struct{ lo, hi int }
	var spans []span
	for _, p := range ports {
		if p.PortName != "" {
			named = append(named, p)
			continue
		}
		spans = append(spans, span{int(p.MinPort), int(p.MaxPort)})
	}
	if len(spans) <= 1 {
		return ports
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	out := named
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].lo <= cur.hi+1; i++ {
			cur.hi = max(cur.hi, spans[i].hi)
		}
		if cur.lo == cur.hi {
			out = append(out, numorstring.SinglePort(uint16(cur.lo)))
		} else {
			r, _ := numorstring.PortRange(uint16(cur.lo), uint16(cur.hi))
			out = append(out, r)
		}
	}
	return out
}

// peerEntity converts one peer: an ipBlock (nets, except as notNets) or a
// pod/namespace selector pair.
func peerEntity(peer *networkingv1.NetworkPolicyPeer) (v3.EntityRule, error) {
	if b := peer.IPBlock; b != nil {
		cidr, err := netip.ParsePrefix(b.CIDR)
		if err != nil {
			return v3.EntityRule{}, fmt.Errorf("ipBlock.cidr %q is not a CIDR", b.CIDR)
		}
		e := v3.EntityRule{Nets: []string{cidr.Masked().String()}}
		for _, ex := range b.Except {
			p, err := netip.ParsePrefix(ex)
			if err != nil {
				return v3.EntityRule{}, fmt.Errorf("ipBlock.except %q is not a CIDR", ex)
			}
			e.NotNets = append(e.NotNets, p.Masked().String())
		}
		return e, nil
	}
	return v3.EntityRule{
		Selector:          podSelector(peer.PodSelector),
		NamespaceSelector: namespaceSelector(peer.NamespaceSelector),
	}, nil
}
