package selector

import (
	"fmt"
	"testing"
)

type labels = map[string]string

// evalCase lists label sets a selector must match and must not match.
type evalCase struct {
	sel      string
	match    []labels
	nonMatch []labels
}

// evalCases covers every operator, absent-label semantics, negation and
// precedence. Many rows follow Calico's own parser tests.
var evalCases = []evalCase{
	// Equality.
	{`a == "b"`, []labels{{"a": "b"}, {"a": "b", "c": "d"}}, []labels{{}, {"a": "c"}, {"c": "d"}, {"a": ""}}},
	{`a == 'a'`, []labels{{"a": "a"}}, []labels{{"a": "b"}, {}}},
	{`a == ""`, []labels{{"a": ""}}, []labels{{}, {"a": "x"}}},
	{`a!='"'`, []labels{{"a": "'"}, {}}, []labels{{"a": `"`}}},
	// Inequality matches absent labels.
	{`a != "b"`, []labels{{"a": "a"}, {}, {"c": "b"}}, []labels{{"a": "b"}}},
	// Substring operators require the label.
	{`a contains "a"`, []labels{{"a": "a"}, {"a": "bab"}, {"a": "aaa", "b": "c"}}, []labels{{}, {"a": "b"}, {"b": "aaa"}}},
	{`a contains ""`, []labels{{"a": ""}, {"a": "x"}}, []labels{{}}},
	{`a starts with "a"`, []labels{{"a": "a"}, {"a": "abb"}}, []labels{{}, {"a": "b"}, {"a": "baa"}, {"b": "aaa"}}},
	{`a startswith "a"`, []labels{{"a": "abb"}}, []labels{{"a": "baa"}}},
	{`a ends with "a"`, []labels{{"a": "a"}, {"a": "bba"}}, []labels{{}, {"a": "b"}, {"a": "aab"}, {"b": "aaa"}}},
	{`a ends  with "a"`, []labels{{"a": "bba"}}, []labels{{"a": "aab"}}},
	// Sets.
	{`a in {"'", '"', "c"}`, []labels{{"a": "c"}, {"a": `"`}, {"a": `'`}}, []labels{{}, {"a": "e"}}},
	{`a not in {"'", '"', "c"}`, []labels{{}, {"a": "e"}}, []labels{{"a": "c"}, {"a": `"`}, {"a": `'`}}},
	{`a in {"a", "b"}`, []labels{{"a": "a"}, {"a": "b"}}, []labels{{"a": "c"}, {}}},
	{`a in {}`, nil, []labels{{}, {"a": ""}, {"a": "x"}}},
	{`a not in {}`, []labels{{}, {"a": ""}, {"a": "x"}}, nil},
	{`a in {"x",}`, []labels{{"a": "x"}}, []labels{{"a": ""}}},
	{`a notin{"d","e"}`, []labels{{"a": "a"}, {}}, []labels{{"a": "d"}}},
	{`a in {"01","02","03","04","05","06","07","08","09","10","11","12"}`,
		[]labels{{"a": "01"}, {"a": "07"}, {"a": "12"}}, []labels{{"a": "13"}, {"a": "1"}, {}}},
	// has, all, global, empty.
	{`has(a)`, []labels{{"a": "b"}, {"a": ""}}, []labels{{}, {"b": "a"}}},
	{`has( a )`, []labels{{"a": "b"}}, []labels{{}}},
	{`!has(a)`, []labels{{"b": "b"}, {}}, []labels{{"a": "b"}}},
	{``, []labels{{}, {"a": "b"}}, nil},
	{" \t ", []labels{{}}, nil},
	{`all()`, []labels{{}, {"a": "b"}}, nil},
	{`all( )`, []labels{{}}, nil},
	{`global()`, []labels{{}, {"a": "b"}}, nil},
	{`!all()`, nil, []labels{{}, {"a": "b"}}},
	// Negation: runs of '!' collapse; '!' applies to the whole comparison.
	{`!!has(b)`, []labels{{"b": "x"}}, []labels{{"a": "b"}}},
	{`!!! has(a)`, []labels{{}}, []labels{{"a": "b"}}},
	{`! !!has(a)`, []labels{{}}, []labels{{"a": "b"}}},
	{`!(!has(a))`, []labels{{"a": "x"}}, []labels{{}}},
	{`!a in {"a"}`, []labels{{"a": "b"}, {}}, []labels{{"a": "a"}}},
	{`!a == "x"`, []labels{{}, {"a": "y"}}, []labels{{"a": "x"}}},
	// Boolean operators and precedence: ! > && > ||.
	{`a == "b" && c == "d"`, []labels{{"a": "b", "c": "d"}}, []labels{{}, {"a": "b", "c": "e"}, {"a": "c", "c": "d"}, {"a": "b"}}},
	{`a == "b" || c == "d"`, []labels{{"a": "b", "c": "d"}, {"a": "b"}, {"c": "d"}}, []labels{{}, {"a": "e", "c": "e"}}},
	{`a == 'a1' && !b == 'b1'`, []labels{{"a": "a1"}}, []labels{{"a": "a1", "b": "b1"}}},
	{`!(!has(a) || has(b))`, []labels{{"a": "a"}}, []labels{{"a": "a", "b": "b"}, {}}},
	{`! a == 'a1' || ! b == 'b1'`, []labels{{"a": "a1"}, {}}, []labels{{"a": "a1", "b": "b1"}}},
	{`has(a) || has(b) && has(c)`, // a || (b && c)
		[]labels{{"a": ""}, {"b": "", "c": ""}}, []labels{{"b": ""}, {"c": ""}, {}}},
	{`(has(a) || has(b)) && has(c)`,
		[]labels{{"a": "", "c": ""}, {"b": "", "c": ""}}, []labels{{"a": ""}, {"b": ""}}},
	{`!has(a) && has(b)`, // (!a) && b, not !(a && b)
		[]labels{{"b": ""}}, []labels{{}, {"a": "", "b": ""}}},
	{`!(has(a) && has(b))`, []labels{{}, {"a": ""}}, []labels{{"a": "", "b": ""}}},
	{`has(a)&&has(b)||has(c)&&has(d)`,
		[]labels{{"a": "", "b": ""}, {"c": "", "d": ""}}, []labels{{"a": "", "c": ""}, {"b": "", "d": ""}}},
	// Real-world keys and keyword-like labels.
	{`projectcalico.org/namespace == "kube-system" && k8s-app == "kube-dns"`,
		[]labels{{"projectcalico.org/namespace": "kube-system", "k8s-app": "kube-dns"}},
		[]labels{{"k8s-app": "kube-dns"}}},
	{`has(calico/k8s_NS-.1/role)`, []labels{{"calico/k8s_NS-.1/role": "x"}}, []labels{{}}},
	{`contains contains "contains"`, []labels{{"contains": "xcontainsx"}}, []labels{{"contains": "x"}}},
	{`in in {"in"} && not not in {"x"} && has == "h" && all == "a"`,
		[]labels{{"in": "in", "has": "h", "all": "a"}}, []labels{{"in": "in", "not": "x", "has": "h", "all": "a"}}},
	// Values are compared byte for byte.
	{`a == "héllo wörld"`, []labels{{"a": "héllo wörld"}}, []labels{{"a": "hello world"}}},
	{`a == "B"`, []labels{{"a": "B"}}, []labels{{"a": "b"}}},
}

func TestEvaluate_MatchesCalicoSemantics(t *testing.T) {
	for _, tc := range evalCases {
		t.Run(tc.sel, func(t *testing.T) {
			sel, err := Parse(tc.sel)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// The canonical form must select the same label sets.
			canon, err := Parse(sel.String())
			if err != nil {
				t.Fatalf("Parse(canonical %q): %v", sel.String(), err)
			}
			for _, want := range []bool{true, false} {
				sets := tc.match
				if !want {
					sets = tc.nonMatch
				}
				for _, l := range sets {
					for name, s := range map[string]*Selector{"parsed": sel, "canonical": canon} {
						if got := s.Evaluate(l); got != want {
							t.Errorf("%s %q Evaluate(%v) = %v, want %v", name, s, l, got, want)
						}
						if got := s.EvaluateLabels(MapLabels(l)); got != want {
							t.Errorf("%s %q EvaluateLabels(%v) = %v, want %v", name, s, l, got, want)
						}
					}
				}
			}
		})
	}
}

func TestEvaluate_NilLabelsAreEmpty(t *testing.T) {
	sel := MustParse(`a != "x" && !has(b)`)
	if !sel.Evaluate(nil) || !sel.EvaluateLabels(nil) {
		t.Errorf("%s should match no labels", sel)
	}
	if MustParse(`has(a)`).EvaluateLabels(nil) {
		t.Errorf("has(a) should not match nil labels")
	}
}

func TestEvaluate_ZeroSelectorMatchesAll(t *testing.T) {
	var nilSel *Selector
	for name, s := range map[string]*Selector{"nil": nilSel, "zero": {}} {
		if !s.Evaluate(labels{"a": "b"}) || !s.EvaluateLabels(MapLabels{}) {
			t.Errorf("%s selector should match everything", name)
		}
		if s.String() != "all()" || s.UniqueID() != All().UniqueID() || !s.IsAll() {
			t.Errorf("%s selector: String %q, UniqueID %q, IsAll %v; want all()", name, s.String(), s.UniqueID(), s.IsAll())
		}
	}
}

// countingLabels records lookups, to show && and || stop early.
type countingLabels struct {
	m     labels
	calls int
}

func (c *countingLabels) Get(k string) (string, bool) {
	c.calls++
	v, ok := c.m[k]
	return v, ok
}

func TestEvaluate_ShortCircuits(t *testing.T) {
	for _, tc := range []struct {
		sel  string
		want int
	}{
		{`has(x) && has(a) && has(b)`, 1},
		{`has(a) || has(x) || has(y)`, 1},
		{`has(x) || has(y) || has(a)`, 3},
	} {
		l := &countingLabels{m: labels{"a": "1", "b": "2"}}
		MustParse(tc.sel).EvaluateLabels(l)
		if l.calls != tc.want {
			t.Errorf("%s: %d lookups, want %d", tc.sel, l.calls, tc.want)
		}
	}
}

func ExampleSelector_Evaluate() {
	sel := MustParse(`k8s-app == "kube-dns" && projectcalico.org/namespace in {"kube-system"}`)
	fmt.Println(sel.Evaluate(map[string]string{"k8s-app": "kube-dns", "projectcalico.org/namespace": "kube-system"}))
	fmt.Println(sel.Evaluate(map[string]string{"k8s-app": "kube-dns"}))
	// Output:
	// true
	// false
}
