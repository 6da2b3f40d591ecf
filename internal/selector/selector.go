package selector

import (
	"crypto/sha256"
	"encoding/base64"
)

// Labels is what a selector is evaluated against when the labels are not a
// plain map (for example an endpoint's own labels layered over its
// namespace's and profile's, computed on the fly).
type Labels interface {
	// Get returns the value of a label and whether it is present.
	Get(key string) (string, bool)
}

// MapLabels adapts a plain map to Labels.
type MapLabels map[string]string

// Get returns the value of key and whether it is present.
func (m MapLabels) Get(key string) (string, bool) {
	v, ok := m[key]
	return v, ok
}

// Selector is a parsed, immutable Calico selector expression. It is safe for
// concurrent use. The zero value (and a nil *Selector) behaves as all().
type Selector struct {
	root      node
	canonical string
	uid       string
}

// Parse parses a Calico selector expression. The empty (or all-blank)
// string parses as all(). On bad input the error is a *ParseError that
// names the column and says what was expected there.
func Parse(s string) (*Selector, error) {
	root, err := parseExpr(s)
	if err != nil {
		return nil, err
	}
	canonical := canonicalString(root)
	return &Selector{root: root, canonical: canonical, uid: uniqueID(canonical)}, nil
}

// MustParse is Parse for selectors known to be valid (constants in code and
// tests); it panics on a parse error, which is a programmer error there.
func MustParse(s string) *Selector {
	sel, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

// Validate reports whether s is a valid selector, returning the same
// *ParseError as Parse would.
func Validate(s string) error {
	_, err := parseExpr(s)
	return err
}

// All returns a selector that matches every label set: all().
func All() *Selector { return MustParse("all()") }

// Evaluate reports whether the label map matches. It does not allocate.
func (s *Selector) Evaluate(labels map[string]string) bool {
	if s == nil || s.root == nil {
		return true
	}
	return s.root.evalMap(labels)
}

// EvaluateLabels reports whether the labels match. A nil Labels is treated
// as an empty label set. It does not allocate beyond what labels.Get does.
func (s *Selector) EvaluateLabels(labels Labels) bool {
	if s == nil || s.root == nil {
		return true
	}
	if labels == nil {
		return s.root.evalMap(nil)
	}
	return s.root.evalLabels(labels)
}

// String returns the canonical form, identical to Calico's for the same
// expression (see docs/selector.md): double-quoted values (single-quoted when
// the value contains a double quote), sorted and de-duplicated sets, and every
// && / || group wrapped in parentheses.
func (s *Selector) String() string {
	if s == nil || s.root == nil {
		return "all()"
	}
	return s.canonical
}

// UniqueID returns a stable identifier of the canonical form, computed as
// Calico does: "s:" + base64url(sha224("s:" + String())), unpadded. Selectors
// with the same canonical form share an ID, across processes and versions.
func (s *Selector) UniqueID() string {
	if s == nil || s.root == nil {
		return uniqueID("all()")
	}
	return s.uid
}

// IsGlobal reports whether the selector is exactly global(). In a rule's
// namespaceSelector, global() widens the rule's selector to non-namespaced
// resources (GlobalNetworkSets, HostEndpoints) as well as every namespace;
// policy scoping must check for it rather than rely on Evaluate, which treats
// global() like all().
func (s *Selector) IsGlobal() bool {
	if s == nil {
		return false
	}
	c, ok := s.root.(*constNode)
	return ok && c.global
}

// IsAll reports whether the selector is exactly all() (which includes the
// empty selector).
func (s *Selector) IsAll() bool {
	if s == nil || s.root == nil {
		return true
	}
	c, ok := s.root.(*constNode)
	return ok && !c.global
}

// uniqueID hashes a canonical selector the way Calico's hash.MakeUniqueID
// does with prefix "s", so IDs match Calico's (they appear in IP set names).
func uniqueID(canonical string) string {
	sum := sha256.Sum224([]byte("s:" + canonical))
	return "s:" + base64.RawURLEncoding.EncodeToString(sum[:])
}
