// Package conformance is the one test suite every datastore.Backend must
// pass: CRUD with compare-and-swap, key scoping, point-in-time lists, watch
// ordering and resumption, compaction, concurrency, large lists and the
// syncer on top. A backend's own _test.go calls Run with a factory that
// returns a fresh Harness per case; optional capabilities (restarting the
// server, compacting history) switch on the cases that need them.
//
// Imports: internal/datastore and the standard library (testing).
//
//	backend_test.go ──► conformance.Run(t, newHarness)
//	                        └─► t.Run(case) ──► newHarness(t) ──► Backend (+Restart, Compact)
package conformance
