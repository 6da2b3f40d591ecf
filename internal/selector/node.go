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

// cmpNode tests one label: has(key), key == val, key in set, and so on.
type cmpNode struct {
	key string
	op  op
	val string
	set []string // sorted, de-duplicated; only for opIn / opNotIn
}

func (n *cmpNode) evalMap(m map[string]string) bool {
	v, ok := m[n.key]
	return n.test(v, ok)
}

func (n *cmpNode) evalLabels(l Labels) bool {
	v, ok := l.Get(n.key)
	return n.test(v, ok)
}

// test applies the operator to the label's value. An absent label fails every
// positive test and passes != and not in, as in Calico.
func (n *cmpNode) test(v string, present bool) bool {
	switch n.op {
	case opHas:
		return present
	case opEq:
		return present && v == n.val
	case opNe:
		return !present || v != n.val
	case opContains:
		return present && strings.Contains(v, n.val)
	case opStartsWith:
		return present && strings.HasPrefix(v, n.val)
	case opEndsWith:
		return present && strings.HasSuffix(v, n.val)
	case opIn:
		return present && n.inSet(v)
	case opNotIn:
		return !present || !n.inSet(v)
	}
	return false
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

// negate wraps x in a notNode, cancelling a double negation. Calico keeps
// !(!x) as two nodes and prints "!!x", which re-parses as x; cancelling here
// makes String a fixed point of Parse.
func negate(x node) node {
	if inner, ok := x.(*notNode); ok {
		return inner.x
	}
	return &notNode{x: x}
}

// andNode matches when every operand matches; it stops at the first miss.
type andNode struct{ xs []node }

func (n *andNode) evalMap(m map[string]string) bool {
	for _, x := range n.xs {
		if !x.evalMap(m) {
			return false
		}
	}
	return true
}

func (n *andNode) evalLabels(l Labels) bool {
	for _, x := range n.xs {
		if !x.evalLabels(l) {
			return false
		}
	}
	return true
}

func (n *andNode) write(b *strings.Builder) { writeGroup(b, n.xs, " && ") }

// orNode matches when any operand matches; it stops at the first hit.
type orNode struct{ xs []node }

func (n *orNode) evalMap(m map[string]string) bool {
	for _, x := range n.xs {
		if x.evalMap(m) {
			return true
		}
	}
	return false
}

func (n *orNode) evalLabels(l Labels) bool {
	for _, x := range n.xs {
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
