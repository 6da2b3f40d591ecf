// Package node is calico-node: its configuration from the environment
// (config.go, Calico's variable names and defaults), the startup sequence
// that registers the host in the datastore (startup.go), and the process
// that hosts the node's long-running components — Felix's parts and BGP —
// behind one health endpoint (process.go).
//
// Imports: api/v3, internal/client (typed, validating CRUD), internal/ipam
// (tunnel addresses), internal/selector, internal/node/autodetect (node IP
// detection), internal/node/health. Never the dataplane or BGP packages:
// they are handed to the Process as Components by cmd/calico-node.
//
//	environment ──LoadConfig──► Config
//	                              │
//	Startup: Node (addresses, AS, CAS) ──► default pools ──► ClusterInformation,
//	         Felix/BGP defaults ──► tunnel addresses (IPAM) ──► mtu, nodename files
//	                              │
//	Process.Run: health server (:9099) + Components.Run(ctx) until SIGTERM
package node
