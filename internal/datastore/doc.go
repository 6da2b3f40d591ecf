// Package datastore defines the one contract every Tricolor datastore backend
// implements (Backend: keyed, revisioned, compare-and-swap, watchable) and the
// syncer that turns a set of watches into "snapshot → in-sync → deltas" for
// consumers such as Felix, BGP and the fan-out cache.
//
// Backends live in sub-packages: memory (unit tests), etcd (external cluster
// and the embedded server), and later k8s. The conformance sub-package is the
// shared test suite every backend must pass.
//
// Imports: standard library only. Backends never interpret values; typed
// access, defaulting and validation live in internal/client.
//
//	client ──► Backend (memory | etcd | embedded etcd | k8s)
//	               │ Watch
//	               ▼
//	            Syncer ──► OnStatusUpdated(WaitForDatastore → ResyncInProgress → InSync)
//	                   └─► OnUpdates([]Update)  snapshot first, then deltas
package datastore
