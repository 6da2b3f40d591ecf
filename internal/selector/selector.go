package selector

// PLACEHOLDER: replaced by the real parser (owned by the selector work).
// The exported surface below is fixed; other packages code against it.

// Labels is what a selector is evaluated against.
type Labels interface {
	// Get returns the value of a label and whether it is present.
	Get(key string) (string, bool)
}

// Selector is a parsed Calico selector expression.
type Selector struct{ src string }

// Parse parses a Calico selector expression.
func Parse(s string) (*Selector, error) { return &Selector{src: s}, nil }

// Evaluate reports whether the label map matches.
func (s *Selector) Evaluate(labels map[string]string) bool { return true }

// EvaluateLabels reports whether the labels match.
func (s *Selector) EvaluateLabels(labels Labels) bool { return true }

// String returns the canonical form.
func (s *Selector) String() string { return s.src }

// UniqueID returns a stable identifier of the canonical form.
func (s *Selector) UniqueID() string { return s.src }
