package selector

import (
	"slices"
	"strings"
)

// node is one vertex of a compiled selector. Evaluation walks the tree with
// no allocation; the two eval methods differ only in how a label is fetched,
// so a plain map avoids an interface call per lookup.
type node interface {
	evalMap(m map[string]string) bool
	evalLabels(l Labels) bool
	// write appends the canonical form of the node.
	write(b *strings.Builder)
}

// constNode is all() or global(); both match every label set.
type constNode struct{ global bool }

func (n *constNode) evalMap(map[string]string) bool { return true }
func (n *constNode) evalLabels(Labels) bool         { return true }
func (n *constNode) write(b *strings.Builder) {
	if n.global {
		b.WriteString("global()")
	} else {
		b.WriteString("all()")
	}
}

// op is the operator of a comparison on one label.
type op uint8

const (
	opHas op = iota
	opEq
	opNe
	opContains
	opStartsWith
	opEndsWith
	opIn
	opNotIn
)

// opText is the canonical spelling of each binary operator, with the
// surrounding spaces Calico's canonical form puts around it.
var opText = [...]string{
	opEq:         " == ",
	opNe:         " != ",
	opContains:   " contains ",
	opStartsWith: " starts with ",
	opEndsWith:   " ends with ",
	opIn:         " in ",
	opNotIn:      " not in ",
}

// cmpNode tests one label: has(key), key == val, key in set, and so on,
// optionally negated (a leading '!' is folded into the leaf so evaluation
// does not pay for a separate node).
type cmpNode struct {
	key string
	op  op
	neg bool
	val string
	set []string // sorted, de-duplicated; only for opIn / opNotIn
}

func (n *cmpNode) evalMap(m map[string]string) bool {
	v, ok := m[n.key]
	return n.match(v, ok)
}

func (n *cmpNode) evalLabels(l Labels) bool {
	v, ok := l.Get(n.key)
	return n.match(v, ok)
}

// match is test with the common equality case inlined into the caller's
// loop (test itself is too large for the inliner).
func (n *cmpNode) match(v string, present bool) bool {
	if n.op == opEq {
		return (present && v == n.val) != n.neg
	}
	return n.test(v, present)
}

// test applies the operator to the label's value. An absent label fails every
// positive test and passes != and not in, as in Calico.
func (n *cmpNode) test(v string, present bool) bool {
	var r bool
	switch n.op {
	case opHas:
		r = present
	case opEq:
		r = present && v == n.val
	case opNe:
		r = !present || v != n.val
	case opContains:
		r = present && strings.Contains(v, n.val)
	case opStartsWith:
		r = present && strings.HasPrefix(v, n.val)
	case opEndsWith:
		r = present && strings.HasSuffix(v, n.val)
	case opIn:
		r = present && n.inSet(v)
	case opNotIn:
		r = !present || !n.inSet(v)
	}
	return r != n.neg
}

// inSet looks v up in the sorted set: a linear scan for the small sets that
// are typical, binary search for large ones.
func (n *cmpNode) inSet(v string) bool {
	if len(n.set) <= 8 {
		for _, s := range n.set {
			if s == v {
				return true
			}
		}
		return false
	}
	_, found := slices.BinarySearch(n.set, v)
	return found
}

func (n *cmpNode) write(b *strings.Builder) {
	if n.neg {
		b.WriteByte('!')
	}
	if n.op == opHas {
		b.WriteString("has(")
		b.WriteString(n.key)
		b.WriteByte(')')
		return
	}
	b.WriteString(n.key)
	b.WriteString(opText[n.op])
	if n.op != opIn && n.op != opNotIn {
		writeQuoted(b, n.val)
		return
	}
	b.WriteByte('{')
	for i, s := range n.set {
		if i > 0 {
			b.WriteString(", ")
		}
		writeQuoted(b, s)
	}
	b.WriteByte('}')
}

// writeQuoted quotes s with double quotes, or single quotes when s contains a
// double quote. There are no escapes, so a parsed value never holds both.
func writeQuoted(b *strings.Builder, s string) {
	q := byte('"')
	if strings.IndexByte(s, '"') >= 0 {
		q = '\''
	}
	b.WriteByte(q)
	b.WriteString(s)
	b.WriteByte(q)
}

// notNode negates its operand. Its canonical form is "!" followed by the
// operand with no added parentheses: "!a == \"b\"" means !(a == "b").
type notNode struct{ x node }

func (n *notNode) evalMap(m map[string]string) bool { return !n.x.evalMap(m) }
func (n *notNode) evalLabels(l Labels) bool         { return !n.x.evalLabels(l) }
func (n *notNode) write(b *strings.Builder) {
	b.WriteByte('!')
	n.x.write(b)
}

// negate returns the negation of x, cancelling a double negation. Calico
// keeps !(!x) as two nodes and prints "!!x", which re-parses as x;
// cancelling here makes String a fixed point of Parse. Comparisons carry
// their own negation flag.
func negate(x node) node {
	switch x := x.(type) {
	case *notNode:
		return x.x
	case *cmpNode:
		c := *x
		c.neg = !c.neg
		return &c
	}
	return &notNode{x: x}
}

// group is the evaluation plan shared by && and ||: the operands in source
// order (for the canonical form) and, for evaluation, the comparisons copied
// into one contiguous slice and evaluated first without an interface call,
// then the remaining operands. Operands have no side effects, so evaluation
// order does not change the result.
type group struct {
	xs     []node
	leaves []cmpNode
	rest   []node
}

func newGroup(xs []node) group {
	g := group{xs: xs}
	for _, x := range xs {
		if c, ok := x.(*cmpNode); ok {
			g.leaves = append(g.leaves, *c)
		} else {
			g.rest = append(g.rest, x)
		}
	}
	return g
}

// andNode matches when every operand matches; it stops at the first miss.
type andNode struct{ group }

func newAnd(xs []node) *andNode { return &andNode{newGroup(xs)} }

func (n *andNode) evalMap(m map[string]string) bool {
	for i := range n.leaves {
		c := &n.leaves[i]
		v, ok := m[c.key]
		if !c.match(v, ok) {
			return false
		}
	}
	for _, x := range n.rest {
		if !x.evalMap(m) {
			return false
		}
	}
	return true
}

func (n *andNode) evalLabels(l Labels) bool {
	for i := range n.leaves {
		c := &n.leaves[i]
		v, ok := l.Get(c.key)
		if !c.match(v, ok) {
			return false
		}
	}
	for _, x := range n.rest {
		if !x.evalLabels(l) {
			return false
		}
	}
	return true
}

func (n *andNode) write(b *strings.Builder) { writeGroup(b, n.xs, " && ") }

// orNode matches when any operand matches; it stops at the first hit.
type orNode struct{ group }

func newOr(xs []node) *orNode { return &orNode{newGroup(xs)} }

func (n *orNode) evalMap(m map[string]string) bool {
	for i := range n.leaves {
		c := &n.leaves[i]
		v, ok := m[c.key]
		if c.match(v, ok) {
			return true
		}
	}
	for _, x := range n.rest {
		if x.evalMap(m) {
			return true
		}
	}
	return false
}

func (n *orNode) evalLabels(l Labels) bool {
	for i := range n.leaves {
		c := &n.leaves[i]
		v, ok := l.Get(c.key)
		if c.match(v, ok) {
			return true
		}
	}
	for _, x := range n.rest {
		if x.evalLabels(l) {
			return true
		}
	}
	return false
}

func (n *orNode) write(b *strings.Builder) { writeGroup(b, n.xs, " || ") }

// writeGroup writes "(x1 sep x2 sep ...)". Calico parenthesises every && and
// || group, including the outermost, and we match it byte for byte.
func writeGroup(b *strings.Builder, xs []node, sep string) {
	b.WriteByte('(')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(sep)
		}
		x.write(b)
	}
	b.WriteByte(')')
}

// canonicalString renders a tree in canonical form.
func canonicalString(root node) string {
	var b strings.Builder
	root.write(&b)
	return b.String()
}
