// Package nft is the nftables driver: it keeps one table (ours, entirely)
// equal to a desired Table through sigs.k8s.io/knftables, which drives the
// `nft` binary, with one atomic transaction per Sync that changes only what
// differs.
//
// Imports: the standard library and knftables only; it knows nothing of
// policies or the calc graph (the policy manager in package dataplane
// renders those into a Table).
//
// How it recognises its own state: every rule's comment ends in " #<hash>"
// of the rule text and description, so reading back the comments of a chain
// (`nft -j --terse list table`) tells whether the chain holds exactly the
// rules we want; sets and maps are compared element by element.
//
//	desired Table ──► Sync ──► diff against cached kernel state ──► one tx
//	                    ▲            │ (read back on first use, after an
//	                    │            │  error and on Invalidate: resync)
//	                    └── cache ◄──┘ updated only when the tx succeeded
//
// Order inside a transaction: sets/maps and their new elements, new chains,
// flush+refill of changed chains, verdict-map elements, and only with prune
// (after the datastore is in sync): map elements, set elements, maps,
// chains (flushed, then deleted), sets. A restart never flushes the table.
package nft
