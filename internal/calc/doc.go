// Package calc is Felix's calculation graph: it turns the datastore
// syncer's stream of projectcalico.org/v3 resources into the dataplane
// state of one node, as an ordered batch of plain Go updates (updates.go).
//
// It is pure: no goroutines, no clock, no kernel. Graph implements
// datastore.SyncerCallbacks; OnUpdates only records state and Flush
// returns what changed since the previous Flush, coalesced per key, so the
// state a consumer reaches depends only on the current input, whatever the
// batching (the property test checks as-is, reversed, chunked and squashed
// deliveries against each other).
//
// Imports: api/v3, api/numorstring, internal/datastore (the Update type and
// sync status) and internal/selector. Never the dataplane.
//
//	datastore.Update ─► apply (decode + Default, by kind)
//	  │
//	  ├─ WEP / HEP / NetworkSet / GlobalNetworkSet ─► items (label index:
//	  │     own labels over profile labelsToApply, namespace label set here,
//	  │     label-value index) ───────────┐
//	  ├─ Profile ─► labelsToApply ─► relabel inheriting items; rules compiled
//	  ├─ NP / GNP ─► policy selector (namespace, namespaceSelector and
//	  │     serviceAccountSelector folded in) + compiled rules (IP set specs)
//	  │       │                          │
//	  │       ▼                          ▼
//	  │   polSels × local endpoints   ipsetSels × all items ─► IP set members
//	  │       │ active = selects a local endpoint (or hint)     (ref-counted)
//	  │       ▼
//	  │   resolveActivity: incref sets of newly active policies/profiles,
//	  │     then decref the old ones
//	  ├─ Tier ─► per-endpoint tier order and default action
//	  ├─ IPPool / IPAMBlock / Node ─► routes, pools, VTEPs (recompute + diff)
//	  └─ FelixConfiguration ─► default overlaid by node.<name>
//	                                   │
//	Flush ─► Config, pools/VTEPs/routes, IP sets, profiles, policies,
//	         endpoints, policy/profile removes, IP set removes,
//	         route/VTEP/pool removes, InSync
package calc
