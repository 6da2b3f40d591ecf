package calc

import (
	"testing"

	"github.com/tricolor-net/tricolor/internal/selector"
)

func TestRequiredLabel_FindsOnlyTopLevelRequirements(t *testing.T) {
	cases := []struct{ sel, want string }{
		{`projectcalico.org/namespace == "a"`, "projectcalico.org/namespace=a"},
		{`(projectcalico.org/namespace == 'a') && (x == 'y')`, "projectcalico.org/namespace=a"},
		{`(app == 'a') && ((x == 'y') || z == 'w')`, "app=a"},
		{`(app == 'a') || (x == 'y')`, ""},
		{`has(app) && app == "x"`, ""},
		{`app != "x"`, ""},
		{`(projectcalico.org/namespace == 'a') || (x == 'y')`, ""},
		{`((projectcalico.org/namespace == 'a') && x == 'y') || z == 'w'`, ""},
		{`!projectcalico.org/namespace == "a"`, ""},
		{`x == "y"`, "x=y"},
		{`all()`, ""},
	}
	for _, c := range cases {
		k, v, ok := requiredLabel(selector.MustParse(c.sel))
		got := ""
		if ok {
			got = k + "=" + v
		}
		if got != c.want {
			t.Errorf("requiredLabel(%s) [canonical %s] = %q; want %q", c.sel, selector.MustParse(c.sel).String(), got, c.want)
		}
	}
}

func TestPrefixSelector_PrefixesLabelsOnly(t *testing.T) {
	cases := []struct {
		sel, prefix string
		ns          bool
		want        string
	}{
		{`team == "blue"`, "pcns.", true, `pcns.team == "blue"`},
		{`in in {"in"} && has(contains)`, "pcns.", true, `(pcns.in in {"in"} && has(pcns.contains))`},
		{`all()`, "pcns.", true, `has(projectcalico.org/namespace)`},
		{`global()`, "pcns.", true, `!has(projectcalico.org/namespace)`},
		{`!(a != "x" || b not in {"p q", 'say "hi"'})`, "pcsa.", false, `!(pcsa.a != "x" || pcsa.b not in {"p q", 'say "hi"'})`},
		{`a starts with "&& b"`, "pcsa.", false, `pcsa.a starts with "&& b"`},
	}
	for _, c := range cases {
		got, err := prefixSelector(c.sel, c.prefix, c.ns)
		if err != nil {
			t.Fatalf("prefixSelector(%s): %v", c.sel, err)
		}
		if want := selector.MustParse(c.want).String(); got != want {
			t.Errorf("prefixSelector(%s) = %s; want %s", c.sel, got, want)
		}
	}
}
