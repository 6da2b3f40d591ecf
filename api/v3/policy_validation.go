package v3

import (
	"regexp"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8svalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// This file validates the four policy kinds and holds the checks they share
// with the other policy-side kinds (selectors, labels, annotations, tiered
// names). Rule checks are in policy_validation_rule.go; endpoints, tiers,
// profiles and network sets in policy_validation_endpoint.go.

const (
	labelFmt = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	// maxAnnotationBytes is Calico's (and Kubernetes') limit on the total
	// size of an object's annotations.
	maxAnnotationBytes = 256 * 1024
)

var (
	// NetworkPolicy names (v3.30): a DNS-1123 label, optionally prefixed by
	// "<tier>.", or a Kubernetes/OpenStack-derived "knp.default.<name>" /
	// "ossg.default.<name>".
	networkPolicyNameRE = regexp.MustCompile(`^(` + labelFmt + `(\.` + labelFmt + `)?|(knp|ossg)\.default\.` + labelFmt + `(\.` + labelFmt + `)*)$`)
	// GlobalNetworkPolicy names (v3.30): a DNS-1123 label, optionally
	// prefixed by "<tier>.".
	globalNetworkPolicyNameRE = regexp.MustCompile(`^(` + labelFmt + `\.)?` + labelFmt + `$`)
	// tierNameRE: tier names may not contain dots since they prefix policy names.
	tierNameRE = regexp.MustCompile(`^` + labelFmt + `$`)
)

// preformattedPolicyPrefixes are the prefixes of policies Calico derives from
// other APIs; their names carry their own tier and skip the tier-prefix rule.
var preformattedPolicyPrefixes = []string{"knp.default.", "kanp.adminnetworkpolicy.", "kbanp.baselineadminnetworkpolicy.", "ossg."}

// policySelector checks a selector parses; the parser's error gives the column.
func (v *validator) policySelector(field, s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if _, err := selector.Parse(s); err != nil {
		v.addf(field, "invalid selector: %v; see Calico's selector syntax, e.g. app == 'web' && has(tier)", err)
	}
}

// polLabels checks label keys are qualified names and values valid label values.
func (v *validator) polLabels(field string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		if errs := k8svalidation.IsQualifiedName(k); len(errs) > 0 {
			v.addf(field, "label key %q is not valid: %s", k, strings.Join(errs, "; "))
		}
		if errs := k8svalidation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			v.addf(field, "label %q has an invalid value %q: %s", k, labels[k], strings.Join(errs, "; "))
		}
	}
}

// polAnnotations checks annotation keys and the total size.
func (v *validator) polAnnotations(field string, ann map[string]string) {
	total := 0
	for _, k := range sortedKeys(ann) {
		if errs := k8svalidation.IsQualifiedName(strings.ToLower(k)); len(errs) > 0 {
			v.addf(field, "annotation key %q is not valid: %s", k, strings.Join(errs, "; "))
		}
		total += len(k) + len(ann[k])
	}
	if total > maxAnnotationBytes {
		v.addf(field, "annotations total %d bytes, over the %d-byte limit; shorten or remove some", total, maxAnnotationBytes)
	}
}

// polMeta checks the labels and annotations of an object's metadata.
func (v *validator) polMeta(meta *metav1.ObjectMeta) {
	v.polLabels("metadata.labels", meta.Labels)
	v.polAnnotations("metadata.annotations", meta.Annotations)
}

// policyName checks a policy's name against its kind's pattern and the
// v3.30 tier rule: a policy in tier "t" (other than "default") is named
// "t.<name>"; a policy in the default tier is "<name>" or "default.<name>".
func (v *validator) policyName(meta *metav1.ObjectMeta, re *regexp.Regexp, tier string, namespaced bool) {
	name := meta.Name
	switch {
	case name == "":
		v.addf("metadata.name", "is required; set a lower-case name such as \"allow-web\"")
		return
	case len(name) > 253:
		v.addf("metadata.name", "is %d characters, over the 253 limit; shorten it", len(name))
		return
	case !re.MatchString(name):
		v.addf("metadata.name", "%q is not a valid policy name; use lower-case letters, digits and '-', starting and ending with a letter or digit, optionally prefixed by \"<tier>.\"", name)
		return
	}
	if namespaced && meta.Namespace != "" && !dns1123Label.MatchString(meta.Namespace) {
		v.addf("metadata.namespace", "%q is not a valid namespace; use a DNS-1123 label (lower-case letters, digits and '-')", meta.Namespace)
	}
	if !namespaced && meta.Namespace != "" {
		v.addf("metadata.namespace", "must be empty: %s is cluster-scoped; remove the namespace", v.err.Kind)
	}
	for _, p := range preformattedPolicyPrefixes {
		if strings.HasPrefix(name, p) {
			return
		}
	}
	t := tierOrDefault(tier)
	prefix, rest, dotted := strings.Cut(name, ".")
	switch {
	case !dotted && t == DefaultTierName:
	case dotted && prefix == t:
	case !dotted:
		v.addf("metadata.name", "%q must be prefixed with its tier; rename it %q (policies in tier %q are named \"%s.<name>\")", name, t+"."+name, t, t)
	case t == DefaultTierName:
		v.addf("metadata.name", "%q reads as a policy in tier %q but spec.tier is %q; set spec.tier: %s, or rename it %q", name, prefix, t, prefix, rest)
	default:
		v.addf("metadata.name", "%q has tier prefix %q but spec.tier is %q; rename it %q or set spec.tier: %s", name, prefix, t, t+"."+rest, prefix)
	}
}

// policyTier checks spec.tier names a possible tier.
func (v *validator) policyTier(tier string) {
	if tier != "" && (len(tier) > 63 || !tierNameRE.MatchString(tier)) {
		v.addf("spec.tier", "%q is not a valid tier name; use lower-case letters, digits and '-' (no '.'), at most 63 characters", tier)
	}
}

// policyTypes checks each type is Ingress or Egress and none repeats.
func (v *validator) policyTypes(types []PolicyType) {
	seen := map[PolicyType]bool{}
	for i, t := range types {
		f := indexed("spec.types", i)
		switch t {
		case PolicyTypeIngress, PolicyTypeEgress:
		default:
			if strings.EqualFold(string(t), "ingress") || strings.EqualFold(string(t), "egress") {
				v.addf(f, "%q is not valid; policy types are case-sensitive, write %q", t, strings.ToUpper(string(t[:1]))+strings.ToLower(string(t[1:])))
			} else {
				v.addf(f, "%q is not valid; use Ingress or Egress", t)
			}
			continue
		}
		if seen[t] {
			v.addf(f, "%q is listed twice; remove the duplicate", t)
		}
		seen[t] = true
	}
}

// policyHints checks performance hints are known and unique.
func (v *validator) policyHints(hints []PolicyPerformanceHint) {
	seen := map[PolicyPerformanceHint]bool{}
	for i, h := range hints {
		f := indexed("spec.performanceHints", i)
		if h != PerfHintAssumeNeededOnEveryNode {
			v.addf(f, "%q is not a known hint; the only hint is AssumeNeededOnEveryNode", h)
		} else if seen[h] {
			v.addf(f, "%q is listed twice; remove the duplicate", h)
		}
		seen[h] = true
	}
}

// noGlobalSelector rejects global() outside a rule's namespaceSelector.
func (v *validator) noGlobalSelector(field, s string) {
	if strings.Contains(s, "global(") {
		v.addf(field, "global() is only valid as a rule's namespaceSelector; remove it from %s", field)
	}
}

// commonPolicySpec holds the fields every policy kind shares, so one
// function checks them all.
type commonPolicySpec struct {
	tier, selector, saSelector string
	ingress, egress            []Rule
	types                      []PolicyType
	hints                      []PolicyPerformanceHint
}

// policySpec checks the shared policy fields; scope selects the
// namespaced or global service rules.
func (v *validator) policySpec(s commonPolicySpec, scope ruleScope) {
	v.policyTier(s.tier)
	v.policySelector("spec.selector", s.selector)
	v.noGlobalSelector("spec.selector", s.selector)
	v.policySelector("spec.serviceAccountSelector", s.saSelector)
	v.noGlobalSelector("spec.serviceAccountSelector", s.saSelector)
	v.policyTypes(s.types)
	v.policyHints(s.hints)
	v.policyRules("spec.ingress", s.ingress, PolicyTypeIngress, scope)
	v.policyRules("spec.egress", s.egress, PolicyTypeEgress, scope)
}

// globalPolicyFlags checks doNotTrack, preDNAT and applyOnForward together.
func (v *validator) globalPolicyFlags(doNotTrack, preDNAT, applyOnForward bool, egress []Rule, types []PolicyType) {
	if doNotTrack && preDNAT {
		v.addf("spec.preDNAT", "preDNAT and doNotTrack cannot both be true; pick one (doNotTrack bypasses conntrack, preDNAT runs before DNAT)")
	}
	if preDNAT && len(egress) > 0 {
		v.addf("spec.egress", "a preDNAT policy cannot have egress rules (preDNAT applies to ingress only); move them to another policy")
	}
	if preDNAT {
		for _, t := range types {
			if t == PolicyTypeEgress {
				v.addf("spec.types", "a preDNAT policy cannot have type Egress; use types: [Ingress]")
				break
			}
		}
	}
	if (doNotTrack || preDNAT) && !applyOnForward {
		v.addf("spec.applyOnForward", "must be true when doNotTrack or preDNAT is set; set spec.applyOnForward: true")
	}
}

// Validate checks the policy on its own: name and tier prefix, selectors,
// types, hints and every rule.
func (p *NetworkPolicy) Validate() error {
	v := newValidator(KindNetworkPolicy, &p.ObjectMeta)
	v.policyName(&p.ObjectMeta, networkPolicyNameRE, p.Spec.Tier, true)
	v.polMeta(&p.ObjectMeta)
	s := &p.Spec
	v.policySpec(commonPolicySpec{s.Tier, s.Selector, s.ServiceAccountSelector, s.Ingress, s.Egress, s.Types, s.PerformanceHints}, scopeNamespaced)
	return v.result()
}

// Validate checks the policy on its own: name and tier prefix, selectors,
// types, hints, doNotTrack/preDNAT/applyOnForward and every rule.
func (p *GlobalNetworkPolicy) Validate() error {
	v := newValidator(KindGlobalNetworkPolicy, &p.ObjectMeta)
	v.policyName(&p.ObjectMeta, globalNetworkPolicyNameRE, p.Spec.Tier, false)
	v.polMeta(&p.ObjectMeta)
	s := &p.Spec
	v.policySpec(commonPolicySpec{s.Tier, s.Selector, s.ServiceAccountSelector, s.Ingress, s.Egress, s.Types, s.PerformanceHints}, scopeGlobal)
	v.policySelector("spec.namespaceSelector", s.NamespaceSelector)
	v.noGlobalSelector("spec.namespaceSelector", s.NamespaceSelector)
	v.globalPolicyFlags(s.DoNotTrack, s.PreDNAT, s.ApplyOnForward, s.Egress, s.Types)
	return v.result()
}

// stagedAction checks the staged action spelling.
func (v *validator) stagedAction(a StagedAction) {
	switch a {
	case "", StagedActionSet, StagedActionDelete, StagedActionLearn, StagedActionIgnore:
		return
	}
	v.addf("spec.stagedAction", "%q is not valid; use Set (default), Delete, Learn or Ignore", a)
}

// stagedDeleteEmpty reports the fields set on a Delete staged policy.
func (v *validator) stagedDeleteEmpty(set []string) {
	if len(set) > 0 {
		v.addf("spec", "stagedAction Delete stages the removal of the enforced policy, so every field except tier must be empty, but %s set; remove them or use stagedAction Set", strings.Join(set, ", ")+pluralVerb(len(set)))
	}
}

// pluralVerb returns " is" or " are" for n items.
func pluralVerb(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}

// setFields lists which of the named fields are non-empty.
func setFields(fields map[string]bool) []string {
	var out []string
	for _, k := range sortedKeys(fields) {
		if fields[k] {
			out = append(out, k)
		}
	}
	return out
}

// Validate checks the staged policy like a NetworkPolicy, or, for
// stagedAction Delete, that only tier is set.
func (p *StagedNetworkPolicy) Validate() error {
	v := newValidator(KindStagedNetworkPolicy, &p.ObjectMeta)
	v.policyName(&p.ObjectMeta, networkPolicyNameRE, p.Spec.Tier, true)
	v.polMeta(&p.ObjectMeta)
	s := &p.Spec
	v.stagedAction(s.StagedAction)
	if s.StagedAction == StagedActionDelete {
		v.policyTier(s.Tier)
		v.stagedDeleteEmpty(setFields(map[string]bool{
			"order": s.Order != nil, "ingress": len(s.Ingress) > 0, "egress": len(s.Egress) > 0,
			"selector": s.Selector != "", "types": len(s.Types) > 0, "serviceAccountSelector": s.ServiceAccountSelector != "",
			"performanceHints": len(s.PerformanceHints) > 0,
		}))
		return v.result()
	}
	v.policySpec(commonPolicySpec{s.Tier, s.Selector, s.ServiceAccountSelector, s.Ingress, s.Egress, s.Types, s.PerformanceHints}, scopeNamespaced)
	return v.result()
}

// Validate checks the staged policy like a GlobalNetworkPolicy, or, for
// stagedAction Delete, that only tier is set.
func (p *StagedGlobalNetworkPolicy) Validate() error {
	v := newValidator(KindStagedGlobalNetworkPolicy, &p.ObjectMeta)
	v.policyName(&p.ObjectMeta, globalNetworkPolicyNameRE, p.Spec.Tier, false)
	v.polMeta(&p.ObjectMeta)
	s := &p.Spec
	v.stagedAction(s.StagedAction)
	if s.StagedAction == StagedActionDelete {
		v.policyTier(s.Tier)
		v.stagedDeleteEmpty(setFields(map[string]bool{
			"order": s.Order != nil, "ingress": len(s.Ingress) > 0, "egress": len(s.Egress) > 0,
			"selector": s.Selector != "", "types": len(s.Types) > 0, "serviceAccountSelector": s.ServiceAccountSelector != "",
			"performanceHints": len(s.PerformanceHints) > 0, "doNotTrack": s.DoNotTrack, "preDNAT": s.PreDNAT,
			"applyOnForward": s.ApplyOnForward, "namespaceSelector": s.NamespaceSelector != "",
		}))
		return v.result()
	}
	v.policySpec(commonPolicySpec{s.Tier, s.Selector, s.ServiceAccountSelector, s.Ingress, s.Egress, s.Types, s.PerformanceHints}, scopeGlobal)
	v.policySelector("spec.namespaceSelector", s.NamespaceSelector)
	v.noGlobalSelector("spec.namespaceSelector", s.NamespaceSelector)
	v.globalPolicyFlags(s.DoNotTrack, s.PreDNAT, s.ApplyOnForward, s.Egress, s.Types)
	return v.result()
}

// sortedKeys returns a map's keys in order, so messages are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
