// Package compat cross-checks Tricolor's projectcalico.org/v3 types against
// Calico's published API module (github.com/projectcalico/api, pinned in this
// nested module's go.mod so the root module never depends on it).
//
// Two checks:
//
//	testdata/corpus/*.yaml ──► strict decode with Calico's types ──► JSON ─┐
//	                      └──► strict decode with ours          ──► JSON ─┴─► equal?
//
//	reflect over every kind's Go type in both ──► same JSON field names,
//	same omitempty, same shape (object / list / map / scalar)
//
// Kinds Calico keeps outside its public API module (Node, IPAMBlock,
// IPAMHandle, WorkloadEndpoint live in libcalico-go) are skipped here and
// listed in docs/api.md.
package compat
