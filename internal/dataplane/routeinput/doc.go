// Package routeinput is the calc-graph input shared by Felix's route
// managers (internal/dataplane/ipip, vxlan, blackhole, wlroute): one Input
// records the VTEP, block-route, IP-pool, configuration and in-sync updates
// a manager subscribes to, answers the questions the managers ask of them
// (this node's VTEP, the other nodes' VTEPs, remote and local blocks, "does
// some pool use X", the effective config, in sync yet?) and tracks whether
// the kernel needs a reconcile.
//
// It lives beside the managers rather than in internal/calc because it is
// the dataplane's view of calc output: the calc graph emits updates and
// never keeps a copy for a consumer (calc does not import dataplane, and
// this package keeps no kernel state). A manager keeps only what it derives
// from the input (its desired device, routes, neighbours) and the kernel
// side (netlink handle, what it programmed, stats).
//
// Allowed imports: the standard library, api/v3 and internal/calc.
//
//	calc batch ─► Manager.OnUpdate ─► Input.Record (kinds the manager chose)
//	                                   │ marks dirty; manager recomputes desired
//	Manager.Resync ─► Input.MarkDirty  ▼
//	Manager.Apply ─► Input.ApplyIfDirty(reconcile) ─► clean after a success
package routeinput
