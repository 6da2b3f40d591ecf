package calc

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// apply routes one datastore update to the node of the graph that owns its
// kind. A value that does not decode is treated as a deletion (and
// logged), so a bad write never leaves stale state behind.
func (g *Graph) apply(u *datastore.Update) {
	key := u.Key
	var res v3.Resource
	if key.Kind == v3.KindStagedNetworkPolicy || key.Kind == v3.KindStagedGlobalNetworkPolicy {
		return // staged policies are never enforced
	}
	if u.UpdateType != datastore.UpdateTypeDeleted && u.Value != nil {
		r, err := decode(&u.KVPair)
		if err != nil {
			g.log.Warn("calc: ignoring undecodable resource (treated as deleted)", "key", key.String(), "err", err)
		} else {
			res = r
		}
	}
	switch key.Kind {
	case v3.KindWorkloadEndpoint:
		ik := itemKey{kind: kindWEP, ns: key.Namespace, name: key.Name}
		if w, ok := res.(*v3.WorkloadEndpoint); ok {
			g.upsertItem(g.wepItem(ik, w))
		} else {
			g.removeItem(ik)
		}
	case v3.KindHostEndpoint:
		ik := itemKey{kind: kindHEP, name: key.Name}
		if h, ok := res.(*v3.HostEndpoint); ok {
			g.upsertItem(g.hepItem(ik, h))
		} else {
			g.removeItem(ik)
		}
	case v3.KindNetworkSet:
		ik := itemKey{kind: kindNetSet, ns: key.Namespace, name: key.Name}
		if n, ok := res.(*v3.NetworkSet); ok {
			own := withoutReserved(n.Labels)
			own[LabelNamespace] = key.Namespace
			g.upsertItem(g.netSetItem(ik, own, []string{NamespaceProfileNamePrefix + key.Namespace}, n.Spec.Nets))
		} else {
			g.removeItem(ik)
		}
	case v3.KindGlobalNetworkSet:
		ik := itemKey{kind: kindNetSet, name: key.Name}
		if n, ok := res.(*v3.GlobalNetworkSet); ok {
			g.upsertItem(g.netSetItem(ik, withoutReserved(n.Labels), nil, n.Spec.Nets))
		} else {
			g.removeItem(ik)
		}
	case v3.KindProfile:
		p, _ := res.(*v3.Profile)
		g.setProfile(key.Name, p)
	case v3.KindTier:
		if t, ok := res.(*v3.Tier); ok {
			g.tiers[key.Name] = &tierData{order: t.Spec.Order, action: tierDefaultAction(t)}
		} else {
			delete(g.tiers, key.Name)
		}
		g.markAllLocalEndpoints()
	case v3.KindNetworkPolicy:
		pk := policyKey{ns: key.Namespace, name: key.Name}
		if p, ok := res.(*v3.NetworkPolicy); ok {
			s := &p.Spec
			g.setPolicy(pk, policyInput{key: pk, tier: s.Tier, order: s.Order, selector: s.Selector,
				serviceAccountSelector: s.ServiceAccountSelector, types: s.Types, ingress: s.Ingress,
				egress: s.Egress, hints: s.PerformanceHints})
		} else {
			g.removePolicy(pk)
		}
	case v3.KindGlobalNetworkPolicy:
		pk := policyKey{name: key.Name}
		if p, ok := res.(*v3.GlobalNetworkPolicy); ok {
			s := &p.Spec
			g.setPolicy(pk, policyInput{key: pk, tier: s.Tier, order: s.Order, selector: s.Selector,
				namespaceSelector: s.NamespaceSelector, serviceAccountSelector: s.ServiceAccountSelector,
				types: s.Types, ingress: s.Ingress, egress: s.Egress, preDNAT: s.PreDNAT,
				doNotTrack: s.DoNotTrack, fwd: s.ApplyOnForward, hints: s.PerformanceHints})
		} else {
			g.removePolicy(pk)
		}
	case v3.KindStagedNetworkPolicy, v3.KindStagedGlobalNetworkPolicy:
		// Staged policies are never enforced.
	case v3.KindIPPool:
		if p, ok := res.(*v3.IPPool); ok {
			if cidr, err := netip.ParsePrefix(p.Spec.CIDR); err == nil {
				g.pools[key.Name] = &poolData{cidr: cidr.Masked(), pool: Pool{CIDR: cidr.Masked().String(),
					NATOutgoing: p.Spec.NATOutgoing, IPIPMode: p.Spec.IPIPMode, VXLANMode: p.Spec.VXLANMode, Disabled: p.Spec.Disabled}}
			} else {
				g.log.Warn("calc: ignoring IP pool with bad CIDR", "pool", key.Name, "cidr", p.Spec.CIDR)
				delete(g.pools, key.Name)
			}
		} else {
			delete(g.pools, key.Name)
		}
		g.routingDirty = true
	case v3.KindIPAMBlock:
		delete(g.blocks, key.Name)
		if b, ok := res.(*v3.IPAMBlock); ok && b.Spec.Affinity != nil && !b.Spec.Deleted {
			kind, node, _ := strings.Cut(*b.Spec.Affinity, ":")
			if cidr, err := netip.ParsePrefix(b.Spec.CIDR); err == nil && kind == "host" && node != "" {
				g.blocks[key.Name] = &blockData{cidr: cidr.Masked(), node: node}
			}
		}
		g.routingDirty = true
	case v3.KindNode:
		if n, ok := res.(*v3.Node); ok {
			g.nodes[key.Name] = nodeFromResource(n)
		} else {
			delete(g.nodes, key.Name)
		}
		g.routingDirty = true
	case v3.KindFelixConfiguration:
		if c, ok := res.(*v3.FelixConfiguration); ok {
			b, _ := json.Marshal(c.Spec)
			g.felixConfigs[key.Name] = b
		} else {
			delete(g.felixConfigs, key.Name)
		}
		g.configDirty = true
	}
}

// decode turns a stored value into its typed, defaulted resource.
func decode(kv *datastore.KVPair) (v3.Resource, error) {
	res := newResource(kv.Key.Kind)
	if res == nil {
		return nil, fmt.Errorf("decode %s: kind %q is not one the graph consumes", kv.Key, kv.Key.Kind)
	}
	if err := json.Unmarshal(kv.Value, res); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	res.SetName(kv.Key.Name)
	res.SetNamespace(kv.Key.Namespace)
	res.Default()
	return res, nil
}

// newResource returns an empty resource of a kind the graph consumes (a
// switch, because v3.NewResource builds the whole kinds table per call).
func newResource(kind string) v3.Resource {
	switch kind {
	case v3.KindWorkloadEndpoint:
		return v3.NewWorkloadEndpoint()
	case v3.KindHostEndpoint:
		return v3.NewHostEndpoint()
	case v3.KindNetworkSet:
		return v3.NewNetworkSet()
	case v3.KindGlobalNetworkSet:
		return v3.NewGlobalNetworkSet()
	case v3.KindProfile:
		return v3.NewProfile()
	case v3.KindTier:
		return v3.NewTier()
	case v3.KindNetworkPolicy:
		return v3.NewNetworkPolicy()
	case v3.KindGlobalNetworkPolicy:
		return v3.NewGlobalNetworkPolicy()
	case v3.KindIPPool:
		return v3.NewIPPool()
	case v3.KindIPAMBlock:
		return v3.NewIPAMBlock()
	case v3.KindNode:
		return v3.NewNode()
	case v3.KindFelixConfiguration:
		return v3.NewFelixConfiguration()
	}
	return nil
}

// withoutReserved copies labels without projectcalico.org/namespace, which
// only the graph may set (it scopes namespaced policy).
func withoutReserved(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+3)
	maps.Copy(out, in)
	delete(out, LabelNamespace)
	return out
}

// wepItem builds the item for a workload endpoint, adding Calico's
// namespace, orchestrator and service-account labels.
func (g *Graph) wepItem(key itemKey, w *v3.WorkloadEndpoint) *item {
	s := &w.Spec
	own := withoutReserved(w.Labels)
	own[LabelNamespace] = key.ns
	if _, ok := own[LabelOrchestrator]; !ok && s.Orchestrator != "" {
		own[LabelOrchestrator] = s.Orchestrator
	}
	if _, ok := own[LabelServiceAccount]; !ok && s.ServiceAccountName != "" {
		own[LabelServiceAccount] = s.ServiceAccountName
	}
	it := &item{key: key, own: own, parents: dedupe(s.Profiles), local: s.Node == g.cfg.NodeName}
	var bad []string
	it.nets, it.hostIPs, bad = canonicalNets(s.IPNetworks)
	if len(bad) > 0 {
		g.log.Warn("calc: workload endpoint has addresses that are not CIDRs; ignoring them", "endpoint", key.ns+"/"+key.name, "field", "spec.ipNetworks", "bad", bad)
	}
	for _, p := range s.Ports {
		if p.Name != "" {
			it.ports = append(it.ports, namedPort{name: p.Name, proto: strings.ToLower(p.Protocol.String()), port: p.Port})
		}
	}
	if it.local {
		w4, w6 := splitFamilies(it.nets)
		spoof, _, _ := canonicalNets(s.AllowSpoofedSourcePrefixes)
		it.wep = &localWEP{iface: s.InterfaceName, mac: s.MAC, v4: w4, v6: w6, profiles: it.parents, spoof: spoof}
	}
	return it
}

// hepItem builds the item for a host endpoint.
func (g *Graph) hepItem(key itemKey, h *v3.HostEndpoint) *item {
	s := &h.Spec
	it := &item{key: key, own: withoutReserved(h.Labels), parents: dedupe(s.Profiles), local: s.Node == g.cfg.NodeName}
	var bad []string
	it.nets, it.hostIPs, bad = canonicalNets(s.ExpectedIPs)
	if len(bad) > 0 {
		g.log.Warn("calc: host endpoint has expected IPs that are not addresses; ignoring them", "endpoint", key.name, "field", "spec.expectedIPs", "bad", bad)
	}
	for _, p := range s.Ports {
		it.ports = append(it.ports, namedPort{name: p.Name, proto: strings.ToLower(p.Protocol.String()), port: p.Port})
	}
	if it.local {
		v4, v6 := splitFamilies(it.hostIPs)
		it.hep = &localHEP{iface: s.InterfaceName, v4: v4, v6: v6, profiles: it.parents}
	}
	return it
}

// netSetItem builds the item for a network set.
func (g *Graph) netSetItem(key itemKey, own map[string]string, parents, nets []string) *item {
	it := &item{key: key, own: own, parents: parents}
	var bad []string
	it.nets, _, bad = canonicalNets(nets)
	if len(bad) > 0 {
		g.log.Warn("calc: network set has nets that are not CIDRs; ignoring them", "set", key.ns+"/"+key.name, "field", "spec.nets", "bad", bad)
	}
	return it
}

// setProfile stores (or deletes, when p is nil) a profile, re-labelling the
// items that inherit from it when its labelsToApply changed.
func (g *Graph) setProfile(name string, p *v3.Profile) {
	old := g.profiles[name]
	if p == nil {
		if old == nil {
			return
		}
		delete(g.profiles, name)
	} else {
		in, w1 := compileRules(p.Spec.Ingress, "")
		eg, w2 := compileRules(p.Spec.Egress, "")
		for _, w := range append(prefixAll("spec.ingress ", w1), prefixAll("spec.egress ", w2)...) {
			g.log.Warn("calc: profile rule skipped", "profile", name, "problem", w)
		}
		g.profiles[name] = &profileData{labels: p.Spec.LabelsToApply,
			sets: append(in.sets, eg.sets...),
			out:  &Profile{InboundRules: in.rules, OutboundRules: eg.rules}}
	}
	g.dirtyProfiles[name] = struct{}{}
	var oldLabels, newLabels map[string]string
	if old != nil {
		oldLabels = old.labels
	}
	if p != nil {
		newLabels = p.Spec.LabelsToApply
	}
	if !maps.Equal(oldLabels, newLabels) {
		g.relabelProfile(name)
	}
}

// setPolicy compiles and stores an enforced policy; a policy that does not
// compile is removed (and logged) so it cannot half-apply.
func (g *Graph) setPolicy(pk policyKey, in policyInput) {
	pd, sel, warnings, err := buildPolicy(in)
	if err != nil {
		g.log.Warn("calc: ignoring policy that does not compile", "policy", pk.ns+"/"+pk.name, "err", err)
		g.removePolicy(pk)
		return
	}
	for _, w := range warnings {
		g.log.Warn("calc: policy rule skipped", "policy", pk.ns+"/"+pk.name, "problem", w)
	}
	g.upsertPolicy(pd, sel)
}

// splitFamilies splits canonical CIDRs or addresses by IP family.
func splitFamilies(in []string) (v4, v6 []string) {
	for _, s := range in {
		if strings.Contains(s, ":") {
			v6 = append(v6, s)
		} else {
			v4 = append(v4, s)
		}
	}
	return v4, v6
}

// dedupe drops repeated names, keeping the first occurrence.
func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
