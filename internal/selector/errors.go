package selector

import (
	"fmt"
	"unicode/utf8"
)

// ParseError is a selector that failed to parse: where, and what was
// expected there. Its message reads, for example:
//
//	selector "a == ": col 6: expected a quoted string after '=='
type ParseError struct {
	// Selector is the input exactly as given.
	Selector string
	// Column is the 1-based position (in characters) of the problem; one
	// past the end when the selector ended too early.
	Column int
	// Msg says what was expected and, where it helps, what was found.
	Msg string
}

// Error renders the selector, the column and the message on one line.
func (e *ParseError) Error() string {
	return fmt.Sprintf("selector %q: col %d: %s", e.Selector, e.Column, e.Msg)
}

// column converts a byte offset into a 1-based character column.
func column(src string, pos int) int {
	if pos > len(src) {
		pos = len(src)
	}
	return utf8.RuneCountInString(src[:pos]) + 1
}

// describeAt names what sits at byte offset pos, for "found ..." clauses,
// with a hint where a near miss of an operator is likely.
func describeAt(src string, pos int) string {
	if pos >= len(src) {
		return "end of selector"
	}
	c := src[pos]
	switch {
	case isLabelByte(c):
		end := pos
		for end < len(src) && isLabelByte(src[end]) {
			end++
		}
		if end-pos > 40 {
			return fmt.Sprintf("%q...", src[pos:pos+40])
		}
		return fmt.Sprintf("%q", src[pos:end])
	case c == '"' || c == '\'':
		return "a quoted string"
	case c == '=':
		return "'=' (the equality operator is '==')"
	case c == '&':
		return "'&' (the and operator is '&&')"
	case c == '|':
		return "'|' (the or operator is '||')"
	case c == '\n' || c == '\r':
		return "a line break (only spaces and tabs may separate terms)"
	}
	r, _ := utf8.DecodeRuneInString(src[pos:])
	return fmt.Sprintf("%q", r)
}
