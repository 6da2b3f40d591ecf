package selector

import (
	"errors"
	"testing"
)

func TestParseError_PointsAtTheColumn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		col  int
		want string // the full Error() text
	}{
		{`a == `, 6, `selector "a == ": col 6: expected a quoted string after '=='`},
		{`a == b`, 6, `selector "a == b": col 6: expected a quoted string after '==', found "b"`},
		{`a contains 5`, 12, `selector "a contains 5": col 12: expected a quoted string after 'contains', found "5"`},
		{`a starts with`, 14, `selector "a starts with": col 14: expected a quoted string after 'starts with'`},
		{`a = "b"`, 3, `selector "a = \"b\"": col 3: expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "a", found '=' (the equality operator is '==')`},
		{`b`, 2, `selector "b": col 2: expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "b", found end of selector`},
		{`a in "x"`, 6, `selector "a in \"x\"": col 6: expected a set like {"a", "b"} after 'in', found a quoted string`},
		{`a not in {"x" "y"}`, 15, `selector "a not in {\"x\" \"y\"}": col 15: expected ',' or '}' in the set opened at col 10, found a quoted string`},
		{`a in {,}`, 7, `selector "a in {,}": col 7: expected a quoted string or '}' in the set opened at col 6, found ','`},
		{`a == "b`, 6, `selector "a == \"b": col 6: unterminated string; add the closing "`},
		{`a == 'b"`, 6, `selector "a == 'b\"": col 6: unterminated string; add the closing '`},
		{`(a == "foo"`, 12, `selector "(a == \"foo\"": col 12: expected ')' to close the '(' at col 1, found end of selector`},
		{`has(a) && (has(b) || has(c)`, 28, `selector "has(a) && (has(b) || has(c)": col 28: expected ')' to close the '(' at col 11, found end of selector`},
		{`has(a))`, 7, `selector "has(a))": col 7: unexpected ')' with no matching '('`},
		{`has(a) has(b)`, 8, `selector "has(a) has(b)": col 8: unexpected "has" after a complete expression; join terms with && or ||`},
		{`has(a) & has(b)`, 8, `selector "has(a) & has(b)": col 8: unexpected '&' (the and operator is '&&') after a complete expression; join terms with && or ||`},
		{`has(a) &&`, 10, `selector "has(a) &&": col 10: unexpected end of selector; expected a term such as has(k), k == "v", k in {"a"}, all(), '!' or '('`},
		{`%`, 1, `selector "%": col 1: expected a term such as has(k), k == "v", k in {"a"}, all(), '!' or '(', found '%'`},
		{`has()`, 5, `selector "has()": col 5: expected a label name inside has( ) (letters, digits and _ . / -), found ')'`},
		{`has(a b)`, 7, `selector "has(a b)": col 7: expected ')' to close has(a, found "b"`},
		{`all(x)`, 5, `selector "all(x)": col 5: expected ')' to close all(, found "x"`},
		{"has(a) &&\nhas(b)", 10, `selector "has(a) &&\nhas(b)": col 10: expected a term such as has(k), k == "v", k in {"a"}, all(), '!' or '(', found a line break (only spaces and tabs may separate terms)`},
		// Columns count characters, not bytes.
		{`a == "ü" && b`, 14, `selector "a == \"ü\" && b": col 14: expected an operator (==, !=, in, not in, contains, starts with, ends with) after label "b", found end of selector`},
	} {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Column != tc.col || pe.Selector != tc.in {
			t.Errorf("Parse(%q): col %d selector %q, want col %d", tc.in, pe.Column, pe.Selector, tc.col)
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q) error\n got: %s\nwant: %s", tc.in, err.Error(), tc.want)
		}
	}
}
