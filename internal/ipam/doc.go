// Package ipam is Calico's block-and-affinity IP address manager: it hands
// out pod and tunnel addresses from IPPools, correct under any number of
// concurrent clients on any number of nodes, without locks, leaks or
// duplicates.
//
// The model is Calico's, stored as Calico stores it:
//
//   - an IPPool is carved into blocks of spec.blockSize (default /26, /122);
//     a block's CIDR is a pure function of the address, never chosen;
//   - an IPAMBlock holds one block's allocations: an allocations array
//     (ordinal → attribute index), the unallocated ordinals in reuse order,
//     attributes (handle + namespace/pod/node/timestamp/type), a sequence
//     number bumped on every write and the sequence number of each
//     allocation (stale-release protection);
//   - a BlockAffinity ("<node>-<cidr>") ties a block to a node; it is
//     claimed in two phases, pending → confirmed, around the atomic create
//     of the block, and the block's own affinity field is the authority;
//   - an IPAMHandle ("k8s-pod-network.<containerID>", "ipip-tunnel-addr-
//     <node>", ...) counts its allocations per block so release-by-handle
//     touches only those blocks.
//
// Every write is a compare-and-swap on the object's revision, retried a
// bounded number of times (docs/ipam.md explains why that cannot leak or
// double-assign).
//
// An IPAM caches (cache.go) what it read last — pools, reservations, the
// IPAM configuration, each node's labels and affinities, the block each
// node last wrote and which affine blocks are full — and validates it at
// the start of every request with one Fingerprints read when the store
// offers it (the etcd backend does). Cached inputs are thus as current as
// fresh reads; a remembered block is only ever the read half of a CAS.
//
// Imports: api/v3 (resource JSON shapes), internal/datastore (the Backend
// contract, used through the narrow Store interface defined here),
// internal/selector (pool nodeSelectors). Never internal/client: the client
// calls ipam (to refuse deleting a pool that still has blocks).
//
//	AutoAssign(node, n) ──► view: one Fingerprints read; re-read only what changed
//	      │
//	      ▼
//	pools (enabled, selector, use) ──► affine blocks (last written first, known-full skipped)
//	      │                                                   │ full
//	      │                 claim: affinity pending ──► create block ──► confirm
//	      │                                                   │ none left / limit
//	      └──────────────► borrow from other nodes' blocks (unless strictAffinity)
//	each step: handle += n (create, or CAS) ──► block allocations (CAS) ──► addresses
package ipam
