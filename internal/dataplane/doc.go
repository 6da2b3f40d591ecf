// Package dataplane holds Felix's dataplane managers. This file's package
// has the nftables policy manager: it turns the calc graph's output into the
// one table `inet calico` (family inet: IPv4 and IPv6 in one table, every
// calc IP set as an s4-/s6- pair of nft sets) and keeps the kernel equal to
// it through the reconciler in subpackage nft.
//
// Imports: api/v3 and internal/calc (the update types), the nft driver and
// knftables. Never datastore or client: the manager sees only calc output.
//
//	calc.Graph.Flush() ─► OnUpdate (record desired state only: sets,
//	                       policies, profiles, endpoints, pools, config)
//	                            │
//	felix loop ─► Apply ─► Render: whole desired nft.Table
//	                            │   base chains, vmap dispatch, endpoint
//	                            │   chains, policy/profile chains, sets, NAT
//	                            ▼
//	               nft.Reconciler.Sync(table, prune=InSync seen)
//	                 read back on first use / every RefreshInterval (drift)
//	                 one atomic transaction with only the differences
//
// Packet path (see render_base.go): conntrack established/related accept;
// invalid from/to cali* drop; iifname/oifname cali* jump to a dispatch chain
// whose verdict map sends the packet to the endpoint's fw-/tw- chain, or
// drops it when the interface is unknown (fail closed). An endpoint chain
// jumps through its tiers' policy chains (pi-/po-, shared by all endpoints)
// and then its profiles (pri-/pro-), reading the accept/pass mark bits
// after each, and ends in drop. docs/felix.md has the layout and a real
// `nft list table inet calico` excerpt.
package dataplane
