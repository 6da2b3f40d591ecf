package selector

import (
	"errors"
	"testing"
)

// fuzzLabelSets are evaluated against both a parsed selector and its
// re-parsed canonical form; the results must agree.
var fuzzLabelSets = []map[string]string{
	{},
	{"a": "b"},
	{"a": "", "b": "a"},
	{"a": `"`, "b": "'", "c": "d"},
	{"k8s-app": "kube-dns", "projectcalico.org/namespace": "kube-system"},
}

// FuzzParse checks that Parse never panics, that every error is a
// *ParseError with a column inside the input (or one past it), and that the
// canonical form is a fixed point: Parse(String()) succeeds, prints the same
// string, has the same UniqueID and selects the same label sets.
// The seed corpus lives in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, tc := range evalCases {
		f.Add(tc.sel)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sel, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %v is not a *ParseError", in, err)
			}
			if pe.Column < 1 || pe.Column > len([]rune(in))+1 {
				t.Fatalf("Parse(%q) error column %d outside 1..%d", in, pe.Column, len([]rune(in))+1)
			}
			if Validate(in) == nil {
				t.Fatalf("Validate(%q) accepted what Parse rejected", in)
			}
			return
		}
		canon := sel.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok but canonical %q does not parse: %v", in, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form not a fixed point: %q -> %q -> %q", in, canon, again.String())
		}
		if again.UniqueID() != sel.UniqueID() {
			t.Fatalf("UniqueID changed on re-parse of %q", canon)
		}
		if sel.IsGlobal() != again.IsGlobal() || sel.IsAll() != again.IsAll() {
			t.Fatalf("IsGlobal/IsAll changed on re-parse of %q", canon)
		}
		for _, l := range fuzzLabelSets {
			if sel.Evaluate(l) != again.Evaluate(l) || sel.Evaluate(l) != sel.EvaluateLabels(MapLabels(l)) {
				t.Fatalf("%q and its canonical form %q disagree on %v", in, canon, l)
			}
		}
	})
}
