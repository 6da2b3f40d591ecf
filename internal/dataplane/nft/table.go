package nft

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"sigs.k8s.io/knftables"
)

// Table is the desired content of the one table the Reconciler owns. The
// Reconciler never keeps a reference to it: a caller may patch the same
// Table between Syncs (naming what it patched in Changed).
type Table struct {
	Chains map[string]*Chain
	Sets   map[string]*Set
	Maps   map[string]*Map
	// Changed, if not nil, names every object that may differ from the
	// Table given to the previous Sync (maps: those whose elements may
	// differ). While the Reconciler's cache is the result of that Sync,
	// only these are compared: a one-policy change looks at one chain,
	// not thousands. Nil compares everything.
	Changed *Changes
}

// Changes names objects of a Table by kind.
type Changes struct {
	Chains, Sets, Maps map[string]bool
}

// NewChanges returns an empty Changes.
func NewChanges() *Changes {
	return &Changes{Chains: map[string]bool{}, Sets: map[string]bool{}, Maps: map[string]bool{}}
}

// pick returns the entries of m named in names.
func pick[V any](m map[string]V, names map[string]bool) map[string]V {
	out := make(map[string]V, len(names))
	for n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out
}

// NewTable returns an empty desired table.
func NewTable() *Table {
	return &Table{Chains: map[string]*Chain{}, Sets: map[string]*Set{}, Maps: map[string]*Map{}}
}

// Chain is a desired chain: a base chain when Base is set, a regular chain
// (only reachable by jump/goto) otherwise.
type Chain struct {
	Name  string
	Base  *BaseChain
	Rules []Rule

	// memo caches comments(); a Chain must not be changed after its first
	// Sync (renderers cache whole chains between syncs).
	memo []string
}

// BaseChain is where a base chain hooks into netfilter.
type BaseChain struct {
	Type     knftables.BaseChainType
	Hook     knftables.BaseChainHook
	Priority knftables.BaseChainPriority
}

// Rule is one rule in nft syntax plus a human description. The Reconciler
// stores "<Comment> #<hash>" as the rule's comment: the hash covers the rule
// text and description, so reading comments back tells whether a chain holds
// exactly the rules we want (the rule text itself cannot be read back
// reliably: nft rewrites it).
type Rule struct {
	Text    string
	Comment string
}

// Set is a desired named set. Elements are keys as nft lists them back
// (concatenations joined with " . ", IPv4 /32 and IPv6 /128 written as bare
// addresses).
type Set struct {
	Name     string
	Type     string
	Interval bool
	Comment  string
	Elements map[string]struct{}
}

// Map is a desired named map (we use verdict maps: "ifname : verdict").
type Map struct {
	Name     string
	Type     string
	Comment  string
	Elements map[string]string // key → value ("goto fw-cali1234")
	// QuoteKeys writes keys as quoted strings (interface names such as
	// "eth0.100" are not all valid bare nft words); they are listed back
	// unquoted, which is how Elements holds them.
	QuoteKeys bool
}

// mapKey is a map element key as written to nft.
func (m *Map) mapKey(k string) []string {
	if m != nil && m.QuoteKeys {
		return []string{`"` + sanitizeComment(k) + `"`}
	}
	return strings.Split(k, " . ")
}

// AddChain adds (or replaces) a chain and returns it.
func (t *Table) AddChain(name string, base *BaseChain) *Chain {
	c := &Chain{Name: name, Base: base}
	t.Chains[name] = c
	return c
}

// Add appends a rule to the chain.
func (c *Chain) Add(text, comment string) {
	c.Rules = append(c.Rules, Rule{Text: text, Comment: comment})
}

// maxComment is nft's limit on a comment's length.
const maxComment = 128

// hashLen is how many hex digits of the rule hash go into a comment.
const hashLen = 12

// fullComment is the comment stored in the kernel for r.
func (r Rule) fullComment() string {
	sum := sha256.Sum256([]byte(r.Text + "\x00" + r.Comment))
	h := hex.EncodeToString(sum[:])[:hashLen]
	desc := sanitizeComment(r.Comment)
	if room := maxComment - hashLen - 2; len(desc) > room {
		desc = desc[:room]
	}
	return desc + " #" + h
}

// sanitizeComment drops characters nft's quoted strings cannot hold.
func sanitizeComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}

// comments returns the comments the kernel should hold for c, in order.
func (c *Chain) comments() []string {
	if c.memo != nil && len(c.memo) == len(c.Rules) {
		return c.memo
	}
	out := make([]string, len(c.Rules))
	for i, r := range c.Rules {
		out[i] = r.fullComment()
	}
	c.memo = out
	return out
}

// ElementKey normalises a set member to the form nft lists it in: a CIDR
// covering one address becomes the bare address.
func ElementKey(parts ...string) string {
	for i, p := range parts {
		if strings.HasSuffix(p, "/32") && !strings.Contains(p, ":") {
			parts[i] = strings.TrimSuffix(p, "/32")
		} else if strings.HasSuffix(p, "/128") && strings.Contains(p, ":") {
			parts[i] = strings.TrimSuffix(p, "/128")
		}
	}
	return strings.Join(parts, " . ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedWhere returns the keys of m for which keep is true, sorted: the
// diff loops look at every object but sort only the few that changed.
func sortedWhere[V any](m map[string]V, keep func(string, V) bool) []string {
	var keys []string
	for k, v := range m {
		if keep(k, v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
