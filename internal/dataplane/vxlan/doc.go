// Package vxlan is Felix's VXLAN manager: it owns the vxlan.calico device
// and the routes to remote IPAM blocks that travel over it, as Calico does.
//
// Per remote VTEP it keeps a permanent neighbour (remote tunnel IP → remote
// MAC) and an FDB entry (remote MAC → remote node IP); per remote block whose
// pool is VXLAN Always, or CrossSubnet with the owning node on another
// subnet, it keeps "<block> via <remote tunnel IP> dev vxlan.calico onlink
// proto 80". It touches nothing but vxlan.calico and proto-80 routes on it.
// IPv4 only for now (vxlan-v6.calico is not managed).
//
// Allowed imports: the standard library, api/v3, internal/calc,
// internal/dataplane/routeinput (the recorded calc input) and
// github.com/vishvananda/netlink (+ netns in tests).
//
//	calc batch ─► Manager.OnUpdate ─► routeinput.Input ─► desired state (pure: computeDesired)
//	                                         │
//	Manager.Apply ─► read kernel (netlink) ──┴─► minimal add/replace/delete
package vxlan
