// Package blackhole is Felix's owner of the blackhole routes for this node's
// affine IPAM blocks when no BGP agent runs on the node
// (CALICO_NETWORKING_BACKEND vxlan or none), as Calico's Felix does in
// VXLAN-only clusters: "blackhole <block> proto 80" in the main table, so
// traffic to an unallocated address of a local block stops here instead of
// following the default route.
//
// With the BGP agent (backend bird) internal/bgp installs these routes with
// proto bird (12) and Felix does not build this manager. Even so, the
// manager never replaces or deletes a route of another protocol: a block
// that already has a route from someone else is left alone.
//
// Ownership: only proto-80 blackhole routes in the main table are ours. One
// no local block wants is removed, but only after the calc graph's InSync.
//
// Allowed imports: the standard library, internal/calc,
// internal/dataplane/routeinput (the recorded calc input) and
// github.com/vishvananda/netlink (+ netns in tests).
//
//	calc RouteUpdate/RouteRemove/InSync ─► Manager.OnUpdate ─► routeinput.Input ─► wanted blocks
//	Manager.Apply ─► read main table (netlink) ─► add missing, remove stale
package blackhole
