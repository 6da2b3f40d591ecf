// Package loadgen builds synthetic clusters for Felix's benchmarks: many
// workload endpoints over many nodes and namespaces, and many policies
// whose selectors and rules draw on a few label values, so that selectors
// are shared and IP sets have several members, as in a real cluster. The
// calc graph's Go benchmarks and bench/felix use the same shapes.
package loadgen

import (
	"encoding/json"
	"fmt"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Label value counts: every endpoint has app=app-<i%Apps> and
// role=r<i%Roles>; namespace ns-<n> has team=t<n%Teams>.
const (
	Apps  = 200
	Roles = 100
	Teams = 5
)

// NamedPort is the named port every endpoint declares (TCP).
const (
	NamedPort     = "http"
	NamedPortPort = 8080
)

// Spec describes a synthetic cluster.
type Spec struct {
	// Node is the node whose endpoints are local.
	Node string
	// Endpoints is the number of workload endpoints; the first Local of
	// them are on Node, the rest on node-<i/100>.
	Endpoints, Local int
	// Namespaces is the number of namespaces (ns-0 …); 0 means 50.
	Namespaces int
	// Policies is the number of policies; RulesPerPolicy their rule count
	// (0 means 2). Even-numbered policies are NetworkPolicies in
	// ns-<j%Namespaces>, odd ones GlobalNetworkPolicies, unless AllGlobal.
	Policies, RulesPerPolicy int
	AllGlobal                bool
	// Egress splits each policy's rules between ingress (first half) and
	// egress (second half); otherwise all rules are ingress.
	Egress bool
	// SelectorOr, when set, is ORed into every policy's selector (e.g.
	// "loaded == 'true'" to make every policy apply to chosen endpoints).
	SelectorOr string
}

func (s Spec) namespaces() int {
	if s.Namespaces > 0 {
		return s.Namespaces
	}
	return 50
}

// Namespace of endpoint i.
func (s Spec) Namespace(i int) string { return fmt.Sprintf("ns-%d", i%s.namespaces()) }

// IP is endpoint i's address (10.0.0.0/8, unique per i < 2^24).
func IP(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

// InterfaceName is endpoint i's host-side interface ("cali" + 11 digits,
// within the kernel's 15-byte limit).
func InterfaceName(i int) string { return fmt.Sprintf("cali%011d", i) }

// Objects returns the cluster's resources: a namespace profile per
// namespace (allow all, team label), the default tier, the endpoints and
// the policies.
func (s Spec) Objects() []v3.Resource {
	var objs []v3.Resource
	for n := range s.namespaces() {
		objs = append(objs, NamespaceProfile(fmt.Sprintf("ns-%d", n), map[string]string{"team": fmt.Sprintf("t%d", n%Teams)}))
	}
	t := v3.NewTier()
	t.Name = "default"
	order, deny := 1_000_000.0, v3.Deny
	t.Spec.Order, t.Spec.DefaultAction = &order, &deny
	objs = append(objs, t)
	for i := range s.Endpoints {
		objs = append(objs, s.Endpoint(i, map[string]string{"app": fmt.Sprintf("app-%d", i%Apps), "role": fmt.Sprintf("r%d", i%Roles)}))
	}
	for j := range s.Policies {
		objs = append(objs, s.Policy(j))
	}
	return objs
}

// NamespaceProfile is the profile Calico derives from a namespace: allow
// all both ways, the namespace's labels applied as pcns.* labels.
func NamespaceProfile(ns string, labels map[string]string) *v3.Profile {
	p := v3.NewProfile()
	p.Name = "kns." + ns
	p.Spec.LabelsToApply = map[string]string{"pcns.projectcalico.org/name": ns}
	for k, v := range labels {
		p.Spec.LabelsToApply["pcns."+k] = v
	}
	p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
	p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	return p
}

// Endpoint is workload endpoint i with the given labels.
func (s Spec) Endpoint(i int, labels map[string]string) *v3.WorkloadEndpoint {
	node := s.Node
	if i >= s.Local {
		node = fmt.Sprintf("node-%d", i/100)
	}
	pod := fmt.Sprintf("w%d", i)
	ns := s.Namespace(i)
	w := v3.NewWorkloadEndpoint()
	w.Namespace, w.Labels = ns, labels
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: node, Pod: pod, Endpoint: "eth0",
		IPNetworks: []string{IP(i) + "/32"}, InterfaceName: InterfaceName(i), MAC: "ee:ee:ee:ee:ee:ee",
		Profiles: []string{"kns." + ns},
		Ports:    []v3.WorkloadEndpointPort{{Name: NamedPort, Protocol: numorstring.ProtocolFromString("TCP"), Port: NamedPortPort}}}
	if name, err := w.Spec.ExpectedName(); err == nil {
		w.Name = name
	} else { // unreachable: every part above is set and well-formed
		panic(err)
	}
	return w
}

// Policy is policy j: selector app == 'app-<j%Apps>' (ORed with
// SelectorOr), order j%10, and RulesPerPolicy TCP Allow rules alternating
// between a role selector to port 1000+k and a team namespaceSelector to
// the named port and port 1000+k. No rule matches ports outside
// 1000–1999 and 8080.
func (s Spec) Policy(j int) v3.Resource {
	nRules := s.RulesPerPolicy
	if nRules == 0 {
		nRules = 2
	}
	tcp := numorstring.ProtocolFromString("TCP")
	var ingress, egress []v3.Rule
	for k := range nRules {
		peer := v3.EntityRule{Selector: fmt.Sprintf("role == 'r%d'", (j+k)%Roles)}
		ports := []numorstring.Port{numorstring.SinglePort(uint16(1000 + k))}
		if k%2 == 1 {
			peer = v3.EntityRule{NamespaceSelector: fmt.Sprintf("team == 't%d'", (j+k)%Teams)}
			ports = append(ports, numorstring.NamedPort(NamedPort))
		}
		r := v3.Rule{Action: v3.Allow, Protocol: &tcp}
		if s.Egress && k >= (nRules+1)/2 {
			r.Destination = peer
			r.Destination.Ports = ports
			egress = append(egress, r)
			continue
		}
		r.Source = peer
		r.Destination.Ports = ports
		ingress = append(ingress, r)
	}
	sel := fmt.Sprintf("app == 'app-%d'", j%Apps)
	if s.SelectorOr != "" {
		sel = "(" + sel + ") || (" + s.SelectorOr + ")"
	}
	order := float64(j % 10)
	types := []v3.PolicyType{v3.PolicyTypeIngress}
	if len(egress) > 0 {
		types = append(types, v3.PolicyTypeEgress)
	}
	if j%2 == 0 && !s.AllGlobal {
		p := v3.NewNetworkPolicy()
		p.Namespace, p.Name = fmt.Sprintf("ns-%d", j%s.namespaces()), fmt.Sprintf("p%d", j)
		p.Spec.Selector, p.Spec.Order, p.Spec.Types, p.Spec.Ingress, p.Spec.Egress = sel, &order, types, ingress, egress
		return p
	}
	p := v3.NewGlobalNetworkPolicy()
	p.Name = fmt.Sprintf("g%d", j)
	p.Spec.Selector, p.Spec.Order, p.Spec.Types, p.Spec.Ingress, p.Spec.Egress = sel, &order, types, ingress, egress
	return p
}

// Updates encodes resources as the syncer delivers them (JSON values,
// UpdateTypeNew).
func Updates(objs []v3.Resource) ([]datastore.Update, error) {
	ups := make([]datastore.Update, 0, len(objs))
	for _, o := range objs {
		u, err := Update(o, datastore.UpdateTypeNew)
		if err != nil {
			return nil, err
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// Update encodes one resource as a syncer update of the given type.
func Update(o v3.Resource, typ datastore.UpdateType) (datastore.Update, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return datastore.Update{}, fmt.Errorf("encode %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
	}
	key := datastore.Key{Kind: o.GetObjectKind().GroupVersionKind().Kind, Namespace: o.GetNamespace(), Name: o.GetName()}
	return datastore.Update{KVPair: datastore.KVPair{Key: key, Value: b}, UpdateType: typ}, nil
}
