package calc

import (
	"fmt"
	"slices"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// policyKey identifies an enforced policy: ns is empty for a
// GlobalNetworkPolicy.
type policyKey struct {
	ns, name string
}

// policyData is an enforced policy as the graph keeps it.
type policyData struct {
	key     policyKey
	tier    string
	order   *float64
	selUID  string
	ingress bool
	egress  bool
	flags   struct{ preDNAT, doNotTrack, applyOnForward bool }
	// assumeNeeded is the AssumeNeededOnEveryNode hint: active even when it
	// selects no local endpoint.
	assumeNeeded bool
	sets         []setSpec
	out          *Policy
}

func (p *policyData) id() PolicyID {
	return PolicyID{Tier: p.tier, Namespace: p.key.ns, Name: p.key.name}
}

// polSel is one distinct policy selector (by UniqueID) and the local
// endpoints it matches; policies sharing a selector share the evaluation.
type polSel struct {
	uid      string
	sel      *selector.Selector
	req      labelReq // a label equality every match satisfies (empty key: none)
	policies map[policyKey]struct{}
	matches  map[itemKey]*item
}

// refState is what an active policy or profile currently holds references
// on.
type refState struct {
	active bool
	sets   []setSpec
}

// tierData is a Tier as the graph keeps it.
type tierData struct {
	order  *float64
	action v3.Action
}

// profileData is a Profile as the graph keeps it.
type profileData struct {
	labels map[string]string
	sets   []setSpec
	out    *Profile
}

// policyInput is the part of the NetworkPolicy and GlobalNetworkPolicy
// specs the graph uses.
type policyInput struct {
	key                      policyKey
	tier                     string
	order                    *float64
	selector                 string
	namespaceSelector        string
	serviceAccountSelector   string
	types                    []v3.PolicyType
	ingress, egress          []v3.Rule
	preDNAT, doNotTrack, fwd bool
	hints                    []v3.PolicyPerformanceHint
}

// buildPolicy compiles a policy: its endpoint selector with Calico's
// namespace and service-account scoping, and its rules.
func buildPolicy(in policyInput) (*policyData, *selector.Selector, []string, error) {
	sel := in.selector
	if in.key.ns != "" {
		sel = and(fmt.Sprintf("%s == %q", LabelNamespace, in.key.ns), sel)
	}
	if in.namespaceSelector != "" {
		nsSel, err := prefixSelector(in.namespaceSelector, NamespaceLabelPrefix, true)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("spec.namespaceSelector: %w", err)
		}
		sel = and(nsSel, sel)
	}
	if in.serviceAccountSelector != "" {
		saSel, err := prefixSelector(in.serviceAccountSelector, ServiceAccountLabelPrefix, false)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("spec.serviceAccountSelector: %w", err)
		}
		sel = and(sel, saSel)
	}
	parsed, err := selector.Parse(sel)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("spec.selector: %w", err)
	}
	tier := in.tier
	if tier == "" {
		tier = v3.DefaultTierName
	}
	pd := &policyData{key: in.key, tier: tier, order: in.order, selUID: parsed.UniqueID()}
	pd.flags.preDNAT, pd.flags.doNotTrack, pd.flags.applyOnForward = in.preDNAT, in.doNotTrack, in.fwd
	pd.assumeNeeded = slices.Contains(in.hints, v3.PerfHintAssumeNeededOnEveryNode)
	types := v3.DefaultPolicyTypes(in.types, in.ingress, in.egress)
	pd.ingress = slices.Contains(types, v3.PolicyTypeIngress)
	pd.egress = slices.Contains(types, v3.PolicyTypeEgress)
	out := &Policy{Order: in.order, ApplyOnForward: in.fwd, PreDNAT: in.preDNAT, DoNotTrack: in.doNotTrack}
	var warnings []string
	if pd.ingress {
		c, w := compileRules(in.ingress, in.key.ns)
		out.InboundRules, pd.sets = c.rules, append(pd.sets, c.sets...)
		warnings = append(warnings, prefixAll("spec.ingress ", w)...)
	}
	if pd.egress {
		c, w := compileRules(in.egress, in.key.ns)
		out.OutboundRules, pd.sets = c.rules, append(pd.sets, c.sets...)
		warnings = append(warnings, prefixAll("spec.egress ", w)...)
	}
	pd.out = out
	return pd, parsed, warnings, nil
}

func prefixAll(p string, in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = p + s
	}
	return out
}

// upsertPolicy stores a compiled policy and attaches it to its selector.
// Reference changes on its IP sets wait for the flush.
func (g *Graph) upsertPolicy(pd *policyData, sel *selector.Selector) {
	old := g.policies[pd.key]
	g.policies[pd.key] = pd
	if old != nil {
		g.markPolSelEndpoints(old.selUID)
		if old.selUID != pd.selUID {
			g.detachPolicy(old)
		}
	}
	ps := g.polSels[pd.selUID]
	if ps == nil {
		ps = &polSel{uid: pd.selUID, sel: sel, req: newLabelReq(sel), policies: map[policyKey]struct{}{}, matches: map[itemKey]*item{}}
		g.polSels[pd.selUID] = ps
		for _, it := range g.candidates(ps.req) {
			if it.local && it.key.kind != kindNetSet && sel.Evaluate(it.labels) {
				ps.matches[it.key] = it
				it.pols[ps.uid] = struct{}{}
			}
		}
	}
	ps.policies[pd.key] = struct{}{}
	g.markPolSelEndpoints(pd.selUID)
	g.activityDirty[pd.key] = struct{}{}
	g.setsChanged[pd.key] = struct{}{}
}

// removePolicy deletes a policy; its references are dropped at the flush.
func (g *Graph) removePolicy(key policyKey) {
	old := g.policies[key]
	if old == nil {
		return
	}
	g.markPolSelEndpoints(old.selUID)
	g.detachPolicy(old)
	delete(g.policies, key)
	g.activityDirty[key] = struct{}{}
}

// detachPolicy takes the policy off its selector entry, deleting the entry
// when no policy uses it any more.
func (g *Graph) detachPolicy(pd *policyData) {
	ps := g.polSels[pd.selUID]
	delete(ps.policies, pd.key)
	if len(ps.policies) > 0 {
		return
	}
	for _, it := range ps.matches {
		delete(it.pols, ps.uid)
	}
	delete(g.polSels, ps.uid)
}

// markPolSelEndpoints marks every local endpoint a policy selector matches
// as needing its tiers recomputed.
func (g *Graph) markPolSelEndpoints(uid string) {
	if ps := g.polSels[uid]; ps != nil {
		for key := range ps.matches {
			g.dirtyEndpoints[key] = struct{}{}
		}
	}
}

// resolveActivity brings policy and profile activity up to date: a policy
// is active while it selects a local endpoint, a profile while a local
// endpoint names it. New references are taken before old ones are dropped,
// so a set used before and after a change is never deleted and recreated.
func (g *Graph) resolveActivity() {
	var drop []setSpec
	for key := range g.activityDirty {
		pd := g.policies[key]
		want := pd != nil && (pd.assumeNeeded || len(g.polSels[pd.selUID].matches) > 0)
		st := g.policyRefs[key]
		_, changed := g.setsChanged[key]
		if want == st.active && !changed {
			continue
		}
		drop = append(drop, st.sets...)
		if want {
			for _, s := range pd.sets {
				g.incref(s)
			}
			g.policyRefs[key] = refState{active: true, sets: pd.sets}
		} else {
			delete(g.policyRefs, key)
		}
		g.dirtyPolicies[key] = struct{}{}
	}
	clear(g.activityDirty)
	clear(g.setsChanged)
	for name := range g.dirtyProfiles {
		want := g.localProfileRefs[name] > 0
		st := g.profileRefs[name]
		drop = append(drop, st.sets...)
		if !want {
			delete(g.profileRefs, name)
			continue
		}
		var sets []setSpec
		if pd := g.profiles[name]; pd != nil {
			sets = pd.sets
		}
		for _, s := range sets {
			g.incref(s)
		}
		g.profileRefs[name] = refState{active: true, sets: sets}
	}
	for _, s := range drop {
		g.decref(s.id)
	}
}

// tierOf returns a tier's order and default action; a tier that policies
// name but that does not exist sorts last and denies (fail closed).
func (g *Graph) tierOf(name string) tierData {
	if t := g.tiers[name]; t != nil {
		return *t
	}
	if name == v3.DefaultTierName {
		o := v3.DefaultTierOrder
		return tierData{order: &o, action: v3.Deny}
	}
	return tierData{action: v3.Deny}
}

// lessOrder orders by order (nil last) then by name, Calico's rule for
// tiers and for policies within a tier.
func lessOrder(ao *float64, an string, bo *float64, bn string) bool {
	switch {
	case ao != nil && bo != nil && *ao != *bo:
		return *ao < *bo
	case ao != nil && bo == nil:
		return true
	case ao == nil && bo != nil:
		return false
	}
	return an < bn
}
