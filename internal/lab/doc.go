// Package lab builds Tricolor clusters out of network namespaces on one
// machine and drives them: a fabric namespace that switches and routes the
// node subnets and serves the datastore, one namespace per node running a
// real calico-node process, and one namespace per pod wired by the real
// calico CNI plugin through libcni.
//
//	                    lab-<id>-fabric
//	  ┌───────────────────────────────────────────────────┐
//	  │ lo 198.18.0.1:2379 ◄── calico-lab serve-etcd      │  embedded etcd on 127.0.0.1:2379
//	  │ br1 198.18.1.1/24        br2 198.18.2.1/24        │  ip_forward=1: routes between subnets
//	  └───┬──────────────────────────┬────────────────────┘
//	      │ veth                     │ veth
//	lab-<id>-node-1 (eth0)      lab-<id>-node-2 (eth0)      calico-node process each
//	  │ cali… (CNI)                  │ cali…
//	lab-<id>-pod-<ns>.<pod>     lab-<id>-pod-<ns>.<pod>     eth0 /32, default via 169.254.1.1
//
// A dual-stack lab (Topology.IPv6, dualstack.go) adds each address's IPv6
// twin in fd00:198:18::/64 to the fabric and hosts, IP6 and an IPv6 pool to
// calico-node, and an IPv6 address to every pod.
//
// Everything the lab makes is recognisable after a crash: namespaces carry
// the "lab-<runID>-" prefix, processes carry CALICO_LAB_RUN=<runID> in their
// environment, and the run's state, logs and datastore live under
// <run root>/<runID>/ (default /run/calico-lab). Down removes all three,
// with or without a state file. Nothing is ever added to the root
// namespace: no address, route or link; the fabric has no link out of the
// lab, so lab namespaces have no route to the outside.
//
// Imports: internal/client, internal/datastore/etcd and api/v3 (datastore
// access), internal/relay, the CNI project's libcni and plugins/pkg/ns. The lab runs
// calico-node, calico (CNI) and calicoctl as binaries, never as libraries,
// so it gains features as they do.
package lab
