// Package felix is the Felix process loop: it runs the datastore syncer
// over the kinds the calculation graph consumes, feeds the graph, and hands
// each flushed batch to the dataplane managers, applying them at a bounded
// rate. It also reports Felix's health (live while the loop turns, ready
// after the first full apply following in-sync) and, when enabled, serves
// Prometheus metrics.
//
// Imports: api/v3, internal/datastore (syncer), internal/calc,
// internal/dataplane (+ dataplane/vxlan, dataplane/ipip), internal/node/health (reports only) and the
// Prometheus client. Never internal/node itself: calico-node composes Felix
// as one of its components, so the FELIX_* environment arrives as a
// function (Config.ApplyEnv).
//
//	datastore ─► Syncer ─► inbox (mutex + one-slot wake channel)
//	                              │ loop goroutine (the only one touching
//	                              ▼ calc and the managers)
//	              calc.Graph.OnUpdates / OnStatusUpdated (drain everything)
//	                              │ Flush
//	                              ▼
//	   ConfigUpdate ─► + FELIX_* env ─► manager config, refresh, metrics
//	   every update ─► PolicyManager.OnUpdate (+ vxlan/ipip.Manager with real nft)
//	                              │ after InSync, at most every ApplyThrottle
//	                              ▼
//	                   PolicyManager.Apply ─► nft (inet calico)
//	                   vxlan.Manager.Apply ─► netlink (vxlan.calico, proto 80)
//	                   ipip.Manager.Apply ─► netlink (tunl0 up, MTU, address)
//	   resync ticker (refresh interval) ─► Resync + Apply (drift repair)
package felix
