// Package selector implements Calico's label-selector language: parsing with
// column-accurate errors, Calico's canonical form and unique IDs, and fast,
// allocation-free evaluation against a label map or a Labels implementation.
//
// It accepts exactly the selectors Calico accepts (see docs/selector.md for
// the two deliberate differences: a nesting limit and !(!x) printing as x).
//
// Imports: the standard library only. Imported by api/v3 (validation),
// calc (label index, policy resolution), ctl and anything that matches
// labels.
//
// Grammar (EBNF; blanks are spaces and tabs only and may appear between any
// two tokens; keyword operators must not run into a following label
// character):
//
//	selector   = [ or ] ;                         (* empty means all() *)
//	or         = and { "||" and } ;
//	and        = unary { "&&" unary } ;
//	unary      = { "!" } term ;                   (* "!" binds tightest *)
//	term       = "(" or ")"
//	           | "has(" label ")" | "all(" ")" | "global(" ")"
//	           | label ( "==" | "!=" | "contains"
//	                   | "starts" "with" | "ends" "with" ) string
//	           | label ( "in" | "not" "in" ) set ;
//	set        = "{" [ string { "," string } [ "," ] ] "}" ;
//	label      = labelchar { labelchar } ;        (* at most 512 *)
//	labelchar  = "A"…"Z" | "a"…"z" | "0"…"9" | "_" | "." | "/" | "-" ;
//	string     = '"' { any but '"' } '"' | "'" { any but "'" } "'" ;
//
// Semantics: == contains, starts with, ends with and in require the label to
// be present; != and not in match when it is absent; global() matches like
// all() but is reported by IsGlobal, because in a namespaceSelector it also
// brings non-namespaced resources into scope.
//
// Flow:
//
//	text ──Parse──► parser (lexes on demand) ──► node tree ──► canonical String ──► UniqueID
//	                                                 │
//	labels ──Evaluate / EvaluateLabels───────────────┴──► bool (no allocation)
package selector
