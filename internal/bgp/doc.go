// Package bgp is calico-node's BGP agent: an embedded GoBGP speaker driven
// directly from datastore state, in place of Calico's confd + BIRD.
//
// It has three parts, each usable alone:
//
//   - Compute (desired.go, compute*.go) is a pure function from the
//     datastore resources a node sees (Nodes, BGPConfigurations, BGPPeers,
//     BGPFilters, IPPools, IPAM blocks and affinities) to a Desired value:
//     the local speaker's identity, the peers to have, the prefixes to
//     advertise and the blackhole routes to own. No goroutines, no I/O.
//   - Speaker (speaker*.go) reconciles a Desired onto a GoBGP server with
//     minimal change (add, update or delete only the peers and paths that
//     differ), reports peer states, and streams learned best paths.
//   - RouteInstaller (routes*.go) turns best paths into kernel routes with
//     protocol 12 ("bird", as Calico's BIRD writes them) plus blackhole
//     routes for this node's blocks, and touches no route of any other
//     protocol.
//
// StateCache (state_cache.go) is fed by a datastore.Syncer and gives the
// Agent a State to apply once the datastore is in sync.
// Component (component.go) is all of it inside calico-node: syncer, agent,
// health reports and the StatusServer (statusserver.go), the unix socket
// `calicoctl node status` queries with QueryStatus.
//
// Imports: api/v3, api/numorstring, internal/selector, internal/datastore
// (the contract and syncer only), GoBGP (pkg/server, pkg/apiutil,
// pkg/packet/bgp, api), vishvananda/netlink. Never imports datastore
// backends (tests excepted), client, felix or anything above it.
//
//	Syncer ──► StateCache ──► datastore resources (State)
//	        │ Compute (pure)
//	        ▼
//	    Desired ──► Speaker.Apply ──► GoBGP server ◄──► BGP peers
//	        │                              │ best paths (WatchEvent)
//	        │ blackholes                   ▼
//	        └──────────────────────► RouteInstaller ──► kernel (proto 12)
package bgp
