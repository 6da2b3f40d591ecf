// Package memory is an in-process datastore.Backend for unit tests and for
// the lab's throw-away clusters: one global, monotonically increasing revision
// (as etcd has), compare-and-swap on it, and watches served from a bounded
// history of changes. Watching or listing at a revision older than the
// history fails with ErrCompacted, exactly as etcd does after compaction;
// Compact lets tests force that.
//
// Imports: internal/datastore and the standard library only.
//
//	Create/Update/Delete ──► items (current state)
//	        │                history (last N changes) ──► List at old revision
//	        └──► per-watcher queue ──► goroutine ──► Events()
package memory
