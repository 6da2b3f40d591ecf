package selector

import (
	"fmt"
	"slices"
	"strings"
)

// maxLabelLength is Calico's limit on a label key in a selector.
const maxLabelLength = 512

// maxNesting bounds parenthesis depth. Calico has no limit; we keep one so a
// hostile selector cannot exhaust the stack of every calico-node that parses
// it. No hand-written selector comes near it.
const maxNesting = 1000

// termHint lists what may start a term, for error messages.
const termHint = `a term such as has(k), k == "v", k in {"a"}, all(), '!' or '('`

// parser is a recursive-descent parser that lexes on demand. Which words are
// operators depends on position (after a label, "in" is an operator; at the
// start of a term it is a label), exactly as Calico's tokenizer decides by the
// previous token, so both accept the same language.
type parser struct {
	src   string
	pos   int // byte offset of the next unread byte
	depth int // open parentheses
}

// parseExpr parses a whole selector into a tree.
func parseExpr(src string) (node, error) {
	p := &parser{src: src}
	p.skipSpace()
	if p.eof() {
		return &constNode{}, nil
	}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.peek() == ')' {
			return nil, p.errorf(p.pos, "unexpected ')' with no matching '('")
		}
		return nil, p.errorf(p.pos, "unexpected %s after a complete expression; join terms with && or ||",
			describeAt(p.src, p.pos))
	}
	return root, nil
}

func (p *parser) errorf(pos int, format string, args ...any) *ParseError {
	return &ParseError{Selector: p.src, Column: column(p.src, pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

// peek returns the next byte, or 0 at the end.
func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) rest() string { return p.src[p.pos:] }

// skipSpace skips blanks. Like Calico, only spaces and tabs count: a line
// break in a selector is an error.
func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// parseOr parses and-groups separated by "||" (lowest precedence).
func (p *parser) parseOr() (node, error) {
	return p.parseChain("||", p.parseAnd, func(xs []node) node { return newOr(xs) })
}

// parseAnd parses unary terms separated by "&&".
func (p *parser) parseAnd() (node, error) {
	return p.parseChain("&&", p.parseUnary, func(xs []node) node { return newAnd(xs) })
}

// parseChain parses operands (each by sub) separated by op. A single
// operand is returned as is; two or more become one group built by group,
// so "a && b && c" is one three-operand node, as in Calico's canonical form.
func (p *parser) parseChain(op string, sub func() (node, error), group func([]node) node) (node, error) {
	first, err := sub()
	if err != nil {
		return nil, err
	}
	var xs []node // allocated only when a second operand appears
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.rest(), op) {
			break
		}
		p.pos += len(op)
		x, err := sub()
		if err != nil {
			return nil, err
		}
		if xs == nil {
			xs = []node{first}
		}
		xs = append(xs, x)
	}
	if xs == nil {
		return first, nil
	}
	return group(xs), nil
}

// parseUnary parses any number of '!' then one term. Runs of '!' collapse to
// their parity, as in Calico; "!=" is never a '!'.
func (p *parser) parseUnary() (node, error) {
	negated := false
	for {
		p.skipSpace()
		if p.peek() == '!' && !strings.HasPrefix(p.rest(), "!=") {
			negated = !negated
			p.pos++
			continue
		}
		break
	}
	x, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	if negated {
		return negate(x), nil
	}
	return x, nil
}

// parseTerm parses a parenthesised expression, has(k), all(), global() or a
// comparison "label op value". Leading blanks are already skipped.
func (p *parser) parseTerm() (node, error) {
	rest := p.rest()
	switch {
	case p.eof():
		return nil, p.errorf(p.pos, "unexpected end of selector; expected %s", termHint)
	case rest[0] == '(':
		return p.parseParens()
	case strings.HasPrefix(rest, "has("):
		p.pos += len("has(")
		p.skipSpace()
		key, err := p.parseLabel("a label name inside has( )")
		if err != nil {
			return nil, err
		}
		if err := p.closeCall("has(" + key); err != nil {
			return nil, err
		}
		return &cmpNode{key: key, op: opHas}, nil
	case strings.HasPrefix(rest, "all("):
		p.pos += len("all(")
		if err := p.closeCall("all("); err != nil {
			return nil, err
		}
		return &constNode{}, nil
	case strings.HasPrefix(rest, "global("):
		p.pos += len("global(")
		if err := p.closeCall("global("); err != nil {
			return nil, err
		}
		return &constNode{global: true}, nil
	case isLabelByte(rest[0]):
		key, err := p.parseLabel("a label name")
		if err != nil {
			return nil, err
		}
		return p.parseComparison(key)
	}
	return nil, p.errorf(p.pos, "expected %s, found %s", termHint, describeAt(p.src, p.pos))
}

// parseParens parses "( expr )".
func (p *parser) parseParens() (node, error) {
	open := p.pos
	p.depth++
	if p.depth > maxNesting {
		return nil, p.errorf(open, "parentheses nested more than %d deep", maxNesting)
	}
	p.pos++
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return nil, p.errorf(p.pos, "expected ')' to close the '(' at col %d, found %s",
			column(p.src, open), describeAt(p.src, p.pos))
	}
	p.pos++
	p.depth--
	return x, nil
}

// closeCall consumes optional blanks and the ')' that ends has(k), all() or
// global().
func (p *parser) closeCall(what string) error {
	p.skipSpace()
	if p.peek() != ')' {
		return p.errorf(p.pos, "expected ')' to close %s, found %s", what, describeAt(p.src, p.pos))
	}
	p.pos++
	return nil
}

// parseLabel reads a label key: [A-Za-z0-9_./-]{1,512}.
func (p *parser) parseLabel(what string) (string, error) {
	start := p.pos
	for p.pos < len(p.src) && isLabelByte(p.src[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", p.errorf(start, "expected %s (letters, digits and _ . / -), found %s",
			what, describeAt(p.src, start))
	}
	if p.pos-start > maxLabelLength {
		return "", p.errorf(start, "label is %d characters long; the limit is %d", p.pos-start, maxLabelLength)
	}
	return p.src[start:p.pos], nil
}

// parseComparison parses the operator and operand after a label.
func (p *parser) parseComparison(key string) (node, error) {
	p.skipSpace()
	opPos := p.pos
	var o op
	switch {
	case strings.HasPrefix(p.rest(), "=="):
		o, p.pos = opEq, p.pos+2
	case strings.HasPrefix(p.rest(), "!="):
		o, p.pos = opNe, p.pos+2
	case p.cutWords("contains"):
		o = opContains
	case p.cutWords("starts", "with"):
		o = opStartsWith
	case p.cutWords("ends", "with"):
		o = opEndsWith
	case p.cutWords("not", "in"):
		o = opNotIn
	case p.cutWords("in"):
		o = opIn
	default:
		return nil, p.errorf(opPos, "expected an operator (==, !=, in, not in, contains, starts with, ends with) after label %q, found %s",
			key, describeAt(p.src, opPos))
	}
	opName := strings.TrimSpace(opText[o])
	p.skipSpace()
	if o == opIn || o == opNotIn {
		set, err := p.parseSet(opName)
		if err != nil {
			return nil, err
		}
		return &cmpNode{key: key, op: o, set: set}, nil
	}
	val, err := p.parseString("after '" + opName + "'")
	if err != nil {
		return nil, err
	}
	return &cmpNode{key: key, op: o, val: val}, nil
}

// cutWords consumes a keyword operator made of words separated by optional
// blanks ("starts with", "startswith"), provided the last word is not
// followed by a label character. It consumes nothing on a mismatch.
func (p *parser) cutWords(words ...string) bool {
	pos := p.pos
	for i, w := range words {
		if i > 0 {
			for pos < len(p.src) && (p.src[pos] == ' ' || p.src[pos] == '\t') {
				pos++
			}
		}
		if !strings.HasPrefix(p.src[pos:], w) {
			return false
		}
		pos += len(w)
	}
	if pos < len(p.src) && isLabelByte(p.src[pos]) {
		return false
	}
	p.pos = pos
	return true
}

// parseString reads a single- or double-quoted string. There are no escapes:
// the string ends at the next matching quote.
func (p *parser) parseString(context string) (string, error) {
	q := p.peek()
	if q != '"' && q != '\'' {
		if p.eof() {
			return "", p.errorf(p.pos, "expected a quoted string %s", context)
		}
		return "", p.errorf(p.pos, "expected a quoted string %s, found %s", context, describeAt(p.src, p.pos))
	}
	end := strings.IndexByte(p.src[p.pos+1:], q)
	if end < 0 {
		return "", p.errorf(p.pos, "unterminated string; add the closing %c", q)
	}
	s := p.src[p.pos+1 : p.pos+1+end]
	p.pos += end + 2
	return s, nil
}

// parseSet reads {"a", "b", ...}. Like Calico it accepts {} and a trailing
// comma. The result is sorted and de-duplicated.
func (p *parser) parseSet(opName string) ([]string, error) {
	if p.peek() != '{' {
		return nil, p.errorf(p.pos, `expected a set like {"a", "b"} after '%s', found %s`, opName, describeAt(p.src, p.pos))
	}
	open := p.pos
	p.pos++
	var set []string
	afterValue := false
	for {
		p.skipSpace()
		if c := p.peek(); c != '"' && c != '\'' {
			break
		}
		v, err := p.parseString("in the set")
		if err != nil {
			return nil, err
		}
		set = append(set, v)
		afterValue = true
		p.skipSpace()
		if p.peek() != ',' {
			break
		}
		p.pos++
		afterValue = false
	}
	if p.peek() != '}' {
		want := "a quoted string or '}'"
		if afterValue {
			want = "',' or '}'"
		}
		return nil, p.errorf(p.pos, "expected %s in the set opened at col %d, found %s",
			want, column(p.src, open), describeAt(p.src, p.pos))
	}
	p.pos++
	slices.Sort(set)
	return slices.Compact(set), nil
}

// isLabelByte reports whether c may appear in a label key.
func isLabelByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '/' || c == '-'
}
