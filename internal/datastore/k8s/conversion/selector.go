package conversion

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podSelector renders a Kubernetes pod selector in Calico's selector
// language, restricted to Kubernetes endpoints: a nil or empty selector
// selects every pod ("projectcalico.org/orchestrator == 'k8s'").
func podSelector(s *metav1.LabelSelector) string {
	terms := []string{fmt.Sprintf("%s == '%s'", LabelOrchestrator, OrchestratorK8s)}
	return strings.Join(append(terms, labelSelectorTerms(s)...), " && ")
}

// namespaceSelector renders a peer's namespace selector: nil means the
// policy's own namespace (""), an empty selector every namespace ("all()").
func namespaceSelector(s *metav1.LabelSelector) string {
	if s == nil {
		return ""
	}
	if len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		return "all()"
	}
	return strings.Join(labelSelectorTerms(s), " && ")
}

// labelSelectorTerms renders matchLabels (sorted by key) then
// matchExpressions (in order) as Calico selector terms, ANDed by the caller.
func labelSelectorTerms(s *metav1.LabelSelector) []string {
	if s == nil {
		return nil
	}
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var terms []string
	for _, k := range keys {
		terms = append(terms, fmt.Sprintf("%s == '%s'", k, s.MatchLabels[k]))
	}
	for _, e := range s.MatchExpressions {
		values := "'" + strings.Join(e.Values, "', '") + "'"
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			terms = append(terms, fmt.Sprintf("%s in { %s }", e.Key, values))
		case metav1.LabelSelectorOpNotIn:
			terms = append(terms, fmt.Sprintf("%s not in { %s }", e.Key, values))
		case metav1.LabelSelectorOpExists:
			terms = append(terms, fmt.Sprintf("has(%s)", e.Key))
		case metav1.LabelSelectorOpDoesNotExist:
			terms = append(terms, fmt.Sprintf("! has(%s)", e.Key))
		}
	}
	return terms
}
