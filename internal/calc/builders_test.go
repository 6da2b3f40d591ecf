package calc

import (
	"maps"
	"strings"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

const thisNode = "node-a"

func merge(states ...state) state {
	out := state{}
	for _, s := range states {
		maps.Copy(out, s)
	}
	return out
}

type wepOpt func(*v3.WorkloadEndpoint)

func onNode(n string) wepOpt { return func(w *v3.WorkloadEndpoint) { w.Spec.Node = n } }
func withPort(name, proto string, port uint16) wepOpt {
	return func(w *v3.WorkloadEndpoint) {
		w.Spec.Ports = append(w.Spec.Ports, v3.WorkloadEndpointPort{Name: name, Protocol: numorstring.ProtocolFromString(proto), Port: port})
	}
}
func withSA(sa string) wepOpt { return func(w *v3.WorkloadEndpoint) { w.Spec.ServiceAccountName = sa } }
func withProfiles(p ...string) wepOpt {
	return func(w *v3.WorkloadEndpoint) { w.Spec.Profiles = p }
}

// wep builds a local workload endpoint in namespace ns with profile
// kns.<ns>, one IPv4 address and the given labels.
func wep(ns, name, ip string, labels map[string]string, opts ...wepOpt) *v3.WorkloadEndpoint {
	w := v3.NewWorkloadEndpoint()
	w.Namespace, w.Name, w.Labels = ns, name, labels
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: thisNode, Pod: name, Endpoint: "eth0",
		IPNetworks: []string{ip + "/32"}, InterfaceName: "cali" + name, MAC: "ee:ee:ee:ee:ee:ee",
		Profiles: []string{NamespaceProfileNamePrefix + ns}}
	for _, o := range opts {
		o(w)
	}
	return w
}

// nsProfile is the profile Calico derives from a namespace: allow all, and
// the namespace's labels as pcns.* labels.
func nsProfile(ns string, labels map[string]string) *v3.Profile {
	p := v3.NewProfile()
	p.Name = NamespaceProfileNamePrefix + ns
	p.Spec.LabelsToApply = map[string]string{NamespaceLabelPrefix + LabelName: ns}
	for k, v := range labels {
		p.Spec.LabelsToApply[NamespaceLabelPrefix+k] = v
	}
	p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
	p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	return p
}

func saProfile(ns, sa string, labels map[string]string) *v3.Profile {
	p := v3.NewProfile()
	p.Name = ServiceAccountProfileNamePrefix + ns + "." + sa
	p.Spec.LabelsToApply = map[string]string{ServiceAccountLabelPrefix + LabelName: sa}
	for k, v := range labels {
		p.Spec.LabelsToApply[ServiceAccountLabelPrefix+k] = v
	}
	return p
}

func tier(name string, order float64, action v3.Action) *v3.Tier {
	t := v3.NewTier()
	t.Name = name
	t.Spec.Order = &order
	t.Spec.DefaultAction = &action
	return t
}

func fptr(f float64) *float64 { return &f }

func np(ns, name, sel string, order *float64, ingress ...v3.Rule) *v3.NetworkPolicy {
	p := v3.NewNetworkPolicy()
	p.Namespace, p.Name = ns, name
	p.Spec.Selector, p.Spec.Order, p.Spec.Ingress = sel, order, ingress
	p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress}
	return p
}

func gnp(name, sel string, order *float64, ingress ...v3.Rule) *v3.GlobalNetworkPolicy {
	p := v3.NewGlobalNetworkPolicy()
	p.Name = name
	p.Spec.Selector, p.Spec.Order, p.Spec.Ingress = sel, order, ingress
	p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress}
	return p
}

func allowFrom(sel string) v3.Rule {
	return v3.Rule{Action: v3.Allow, Source: v3.EntityRule{Selector: sel}}
}

func netset(ns, name string, labels map[string]string, nets ...string) v3.Resource {
	if ns == "" {
		s := v3.NewGlobalNetworkSet()
		s.Name, s.Labels, s.Spec.Nets = name, labels, nets
		return s
	}
	s := v3.NewNetworkSet()
	s.Namespace, s.Name, s.Labels, s.Spec.Nets = ns, name, labels, nets
	return s
}

func hep(name, node, iface string, labels map[string]string, ips ...string) *v3.HostEndpoint {
	h := v3.NewHostEndpoint()
	h.Name, h.Labels = name, labels
	h.Spec = v3.HostEndpointSpec{Node: node, InterfaceName: iface, ExpectedIPs: ips}
	return h
}

func pool(name, cidr string, nat bool, vxlan v3.VXLANMode) *v3.IPPool {
	p := v3.NewIPPool()
	p.Name = name
	p.Spec.CIDR, p.Spec.NATOutgoing, p.Spec.VXLANMode = cidr, nat, vxlan
	return p
}

func block(cidr, node string) *v3.IPAMBlock {
	b := v3.NewIPAMBlock()
	b.Name = strings.NewReplacer(".", "-", ":", "-", "/", "-").Replace(cidr)
	aff := "host:" + node
	b.Spec.CIDR, b.Spec.Affinity = cidr, &aff
	return b
}

func node(name, ip, vtepIP, mac string) *v3.Node {
	n := v3.NewNode()
	n.Name = name
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: ip}
	n.Spec.IPv4VXLANTunnelAddr, n.Spec.VXLANTunnelMACAddr = vtepIP, mac
	return n
}

func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
