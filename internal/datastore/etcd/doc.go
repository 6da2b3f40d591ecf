// Package etcd implements datastore.Backend on etcd v3, against an external
// cluster (Config, New) or a server embedded in the calling process
// (StartEmbedded), which is Tricolor's one-machine default.
//
// Keys use Calico's etcd v3 layout,
// /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>, with
// the JSON value stored verbatim. A resource's revision is its etcd mod
// revision; Create, Update and conditional Delete are single transactions that
// compare it, so every write is compare-and-swap. Watches start at
// fromRevision+1 with previous values, and etcd's compaction surfaces as an
// EventError wrapping datastore.ErrCompacted.
//
// Imports: internal/datastore, api/v3 (kind → plural), the etcd client and
// (for StartEmbedded) the etcd server; zap only to quieten etcd's logging.
//
//	Backend ──clientv3──► etcd (external cluster │ Embedded in this process)
//	   Watch ──► goroutine: WatchResponse → WatchEvent (filtered, mapped) ──► Events()
package etcd
