package calc

import (
	"fmt"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// Labels Calico adds to endpoints, and the prefixes under which profiles
// pass namespace and service-account labels down to endpoints (Calico's
// Kubernetes conversion: profile "kns.<ns>" applies "pcns.<label>",
// profile "ksa.<ns>.<sa>" applies "pcsa.<label>").
const (
	LabelNamespace      = "projectcalico.org/namespace"
	LabelOrchestrator   = "projectcalico.org/orchestrator"
	LabelServiceAccount = "projectcalico.org/serviceaccount"
	LabelName           = "projectcalico.org/name"

	NamespaceLabelPrefix            = "pcns."
	ServiceAccountLabelPrefix       = "pcsa."
	NamespaceProfileNamePrefix      = "kns."
	ServiceAccountProfileNamePrefix = "ksa."
)

// hasNamespace and notHasNamespace are what all() and global() mean inside a
// namespaceSelector: every namespaced endpoint, or only the non-namespaced
// ones (host endpoints, global network sets).
const (
	hasNamespace    = "has(" + LabelNamespace + ")"
	notHasNamespace = "!has(" + LabelNamespace + ")"
)

// entitySelector returns the single selector expression an EntityRule side
// matches, following Calico's conversion: the namespaceSelector (labels
// prefixed "pcns.") or, in a namespaced policy, the policy's own namespace
// scopes the selector and service-account match whenever any selector field
// is used. The empty string means "no selector".
func entitySelector(er *v3.EntityRule, ns string) (string, error) {
	var saSel string
	if er.ServiceAccounts != nil {
		s, err := serviceAccountSelector(er.ServiceAccounts)
		if err != nil {
			return "", err
		}
		saSel = s
	}
	var nsSel string
	if er.NamespaceSelector != "" {
		s, err := prefixSelector(er.NamespaceSelector, NamespaceLabelPrefix, true)
		if err != nil {
			return "", fmt.Errorf("namespaceSelector: %w", err)
		}
		nsSel = s
	} else if ns != "" {
		nsSel = fmt.Sprintf("%s == %q", LabelNamespace, ns)
	}
	sel := and(saSel, er.Selector)
	if nsSel != "" && (sel != "" || er.NotSelector != "" || er.NamespaceSelector != "") {
		sel = and(nsSel, sel)
	}
	return sel, nil
}

// serviceAccountSelector turns a serviceAccounts match into a selector on
// the endpoint's inherited "pcsa." labels and its service-account label.
func serviceAccountSelector(sam *v3.ServiceAccountMatch) (string, error) {
	var sel string
	if sam.Selector != "" {
		s, err := prefixSelector(sam.Selector, ServiceAccountLabelPrefix, false)
		if err != nil {
			return "", fmt.Errorf("serviceAccounts.selector: %w", err)
		}
		sel = s
	}
	if len(sam.Names) > 0 {
		quoted := make([]string, len(sam.Names))
		for i, n := range sam.Names {
			quoted[i] = quote(n)
		}
		sel = and(sel, fmt.Sprintf("%s in {%s}", LabelServiceAccount, strings.Join(quoted, ", ")))
	}
	return sel, nil
}

// and joins two selector expressions with &&, either of which may be empty.
func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") && (" + b + ")"
}

// quote renders a selector string literal (selector strings have no escapes:
// use the quote the value does not contain).
func quote(s string) string {
	if strings.Contains(s, `"`) {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// prefixSelector parses sel and returns its canonical form with every label
// name prefixed. With namespaceForm, all() and global() become what they
// mean in a namespaceSelector (any namespace / no namespace).
//
// It rewrites the canonical form token by token: in Calico's canonical form
// a label is the word that starts a term (after "(", "!", "&&", "||" or the
// start) or the word inside has(...); every other word is an operator and
// every value is quoted.
func prefixSelector(sel, prefix string, namespaceForm bool) (string, error) {
	parsed, err := selector.Parse(sel)
	if err != nil {
		return "", err
	}
	src := parsed.String()
	var b strings.Builder
	termStart := true
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return "", fmt.Errorf("selector %q: unterminated string in canonical form", sel)
			}
			b.WriteString(src[i : i+j+2])
			i += j + 2
			termStart = false
		case isLabelChar(c):
			j := i
			for j < len(src) && isLabelChar(src[j]) {
				j++
			}
			word := src[i:j]
			if j < len(src) && src[j] == '(' {
				// A function: has(label), all(), global().
				k := strings.IndexByte(src[j:], ')')
				if k < 0 {
					return "", fmt.Errorf("selector %q: unterminated %s( in canonical form", sel, word)
				}
				arg := src[j+1 : j+k]
				switch word {
				case "has":
					b.WriteString("has(" + prefix + arg + ")")
				case "all":
					if namespaceForm {
						b.WriteString(hasNamespace)
					} else {
						b.WriteString("all()")
					}
				case "global":
					if namespaceForm {
						b.WriteString(notHasNamespace)
					} else {
						b.WriteString("global()")
					}
				default:
					return "", fmt.Errorf("selector %q: unknown function %s(", sel, word)
				}
				i = j + k + 1
				termStart = false
				continue
			}
			if termStart {
				b.WriteString(prefix)
			}
			b.WriteString(word)
			i = j
			termStart = false
		case c == '!' && i+1 < len(src) && src[i+1] == '=':
			b.WriteString("!=")
			i += 2
		case c == '!' || c == '(':
			b.WriteByte(c)
			i++
			termStart = true
		case c == '&' || c == '|':
			b.WriteByte(c)
			i++
			termStart = true
		default:
			b.WriteByte(c)
			i++
		}
	}
	out := b.String()
	if _, err := selector.Parse(out); err != nil {
		return "", fmt.Errorf("selector %q with prefix %q: %w", sel, prefix, err)
	}
	return out, nil
}

func isLabelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '/' || c == '-'
}

// requiredLabel returns a label equality every match of the selector must
// satisfy, when its canonical form has one at the top level (`k == "v"`
// alone or as the first operand of the outermost &&; every namespaced
// policy's selectors start with the namespace label), so the label index
// evaluates the selector only against items carrying that label value.
func requiredLabel(sel *selector.Selector) (key, value string, ok bool) {
	s := sel.String()
	grouped := strings.HasPrefix(s, "(")
	if grouped {
		s = s[1:]
	}
	i := 0
	for i < len(s) && isLabelChar(s[i]) {
		i++
	}
	key, rest := s[:i], s[i:]
	if key == "" || key == "has" || key == "all" || key == "global" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(rest, ` == "`)
	if !found {
		return "", "", false
	}
	value, tail, found := strings.Cut(rest, `"`)
	if !found {
		return "", "", false
	}
	if grouped && strings.HasPrefix(tail, " && ") || !grouped && tail == "" {
		return key, value, true
	}
	return "", "", false
}
