package selector

import (
	"errors"
	"strings"
	"testing"
)

func TestString_IsCalicosCanonicalForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Rows from Calico's canonicalisation tests.
		{``, `all()`},
		{` all() `, `all()`},
		{` (all() )`, `all()`},
		{`! (has( b)||! has(a ))`, `!(has(b) || !has(a))`},
		{`! (a == "b"&&! c != "d")`, `!(a == "b" && !c != "d")`},
		{`a == "'"`, `a == "'"`},
		{`a == '"'`, `a == '"'`},
		{`a contains '"'`, `a contains '"'`},
		{`a contains "'"`, `a contains "'"`},
		{`a startswith '"'`, `a starts with '"'`},
		{`a endswith "'"`, `a ends with "'"`},
		{`a!='"'`, `a != '"'`},
		{`a in {"d"}`, `a in {"d"}`},
		{`a in {"d", "a", "b"}`, `a in {"a", "b", "d"}`},
		{`a in {"z", "z", "x", "y", "x", "a"}`, `a in {"a", "x", "y", "z"}`},
		// Calico's visitor tests, without the label prefix.
		{`k == 'v' && x == 'y'`, `(k == "v" && x == "y")`},
		{`k == 'v' || has(x)`, `(k == "v" || has(x))`},
		{`!(k == 'v')`, `!k == "v"`},
		{`k not in {'v'}`, `k not in {"v"}`},
		{`!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))`, `!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})`},
		// Our own.
		{`global()`, `global()`},
		{`global( )`, `global()`},
		{`a in {}`, `a in {}`},
		{`a in {'x',}`, `a in {"x"}`},
		{`a in {'"', "'"}`, `a in {'"', "'"}`},
		{`a ends with ""`, `a ends with ""`},
		{"a\t==\t'b'", `a == "b"`},
		{"a == \"multi\nline\"", "a == \"multi\nline\""},
		{`has(a) && has(b) && has(c)`, `(has(a) && has(b) && has(c))`},
		{`(has(a) && has(b)) && has(c)`, `((has(a) && has(b)) && has(c))`},
		{`has(a) || has(b) && has(c)`, `(has(a) || (has(b) && has(c)))`},
		{`!!has(a)`, `has(a)`},
		{`!(!has(a))`, `has(a)`},
		{`!(!(has(a) || has(b)))`, `(has(a) || has(b))`},
		{`!!!(has(a))`, `!has(a)`},
	} {
		sel, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := sel.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		again, err := Parse(sel.String())
		if err != nil {
			t.Errorf("Parse(canonical %q): %v", sel.String(), err)
			continue
		}
		if again.String() != sel.String() || again.UniqueID() != sel.UniqueID() {
			t.Errorf("%q does not round-trip: %q %s vs %s", tc.in, again.String(), again.UniqueID(), sel.UniqueID())
		}
	}
}

func TestUniqueID_MatchesCalico(t *testing.T) {
	// Expected IDs are from Calico's own tests: IDs name IP sets, so they
	// must agree byte for byte.
	for _, tc := range []struct{ in, want string }{
		{``, "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
		{` (all() )`, "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"},
		{`! (has( b)||! has(a ))`, "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"},
		{`! (a == "b"&&! c != "d")`, "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w"},
	} {
		if got := MustParse(tc.in).UniqueID(); got != tc.want {
			t.Errorf("UniqueID(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestUniqueID_EqualExactlyForEqualCanonicalForms(t *testing.T) {
	a, b := MustParse(`a in {"y","x"} && has(b)`), MustParse(`(a in {'x', 'y', 'x'})&&has( b )`)
	if a.UniqueID() != b.UniqueID() {
		t.Errorf("same canonical form %q, different IDs %s %s", a, a.UniqueID(), b.UniqueID())
	}
	c := MustParse(`has(b) && a in {"x","y"}`)
	if a.UniqueID() == c.UniqueID() {
		t.Errorf("operand order is part of the canonical form, as in Calico; IDs should differ")
	}
	if All().UniqueID() == MustParse("global()").UniqueID() {
		t.Errorf("all() and global() must have distinct IDs")
	}
}

func TestIsGlobal_OnlyForGlobal(t *testing.T) {
	for _, tc := range []struct {
		in            string
		global, isAll bool
	}{
		{`global()`, true, false},
		{` ( global( ) ) `, true, false},
		{`all()`, false, true},
		{``, false, true},
		{`global() || has(a)`, false, false},
		{`!global()`, false, false},
		{`has(a)`, false, false},
	} {
		sel := MustParse(tc.in)
		if sel.IsGlobal() != tc.global || sel.IsAll() != tc.isAll {
			t.Errorf("%q: IsGlobal %v IsAll %v, want %v %v", tc.in, sel.IsGlobal(), sel.IsAll(), tc.global, tc.isAll)
		}
	}
}

func TestParse_RejectsWhatCalicoRejects(t *testing.T) {
	for _, in := range []string{
		// Calico's badSelectors list.
		"b == b", "b contains b", "b starts with b", "b ends with b", "'b1' == b", "b", "a b", "!",
		`foo == "bar" &`, `foo == "bar" |`, `foo != ||`, `foo in {"", ||`, `foo in ""`,
		`"FOO`, `"FOO'`, `'FOO`, `(`, `(a == "foo"`, `)`, `()`, `%`, `a == "b" && %`, `a == "b" || %`,
		`a `, `has(foo) &&`,
		// Calico's tokenizer rejections.
		`label starts foo "value"`, `label ends foo "value"`, `label squiggles "value"`,
		// Our own: operators need word boundaries, '=' is not '=='.
		`a containsx "y"`, `a inx {"y"}`, `a notinx {"y"}`, `a startswithx "y"`, `a = "b"`,
		`a === "b"`, `a == "b" & has(c)`, `a == "b" | has(c)`, `has (a)`, `has()`, `has(a b)`, `all(x)`,
		`global(`, `a in {"a" "b"}`, `a in {,}`, `a in {"a",,}`, `a in {"a"`, `a in {b}`, `a in "b"`,
		`a == "b" has(c)`, `a == "b")`, `(a == "b"))`, `!!`, `&& has(a)`, `has(a) || `, `!= "a"`, `a !`,
		`a ! = "b"`, `a == "b" !has(c)`, `(has(a)`, `has(a`, "a == \"b\n",
		// Only spaces and tabs are blanks, as in Calico.
		"has(a)\n", "\nhas(a)", "has(a) &&\nhas(b)", "a ==\r\"b\"",
		// Label length limit.
		"has(" + strings.Repeat("k", 513) + ")",
	} {
		if sel, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want an error", in, sel)
		}
		if err := Validate(in); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", in)
		}
	}
}

func TestParse_AcceptsLongLabelsAndDeepNesting(t *testing.T) {
	key := strings.Repeat("k", 512)
	if _, err := Parse("has(" + key + ")"); err != nil {
		t.Errorf("512-character label: %v", err)
	}
	deep := strings.Repeat("(", maxNesting) + "has(a)" + strings.Repeat(")", maxNesting)
	if _, err := Parse(deep); err != nil {
		t.Errorf("nesting %d: %v", maxNesting, err)
	}
	tooDeep := "(" + deep + ")"
	var pe *ParseError
	if _, err := Parse(tooDeep); !errors.As(err, &pe) || pe.Column != maxNesting+1 {
		t.Errorf("nesting %d: got %v, want a ParseError at col %d", maxNesting+1, err, maxNesting+1)
	}
}

func TestMustParse_PanicsOnBadSelector(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustParse did not panic")
		}
	}()
	MustParse("a ==")
}
