// Package testutil holds helpers shared by tests across Tricolor: the gate
// for tests that need root, free loopback ports, and real peers such as
// Debian's external etcd started on loopback for the duration of one test.
//
// Network namespaces: NewNetns (per test) or CreateNetns/Delete (for
// programs such as bench/felix), Veth, Fabric, a netlink handle inside one
// (Netns.Netlink), and WireWorkload (IPv4) / WireWorkloadAddrs (IPv4 and
// IPv6) / PrepareWorkloadNode to wire a pod to a node as Calico's CNI does. Binaries under test: BuildBinary (one per
// test) and BuildCache (once per test binary), both through GoBuild.
// Subpackage loadgen builds synthetic clusters for Felix's benchmarks.
//
// Imports: the standard library and internal/relay (itself standard-library
// only), plus client-go for the kube-apiserver harness and vishvananda's
// netlink/netns for Netns.Netlink; any package's tests may use it.
//
// External servers (etcd, kube-apiserver) run as a serverProcess: one
// command line, started and waited for until ready, output kept for
// failure messages, stopped with SIGTERM then SIGKILL.
//
//	test ──► StartEtcdProcess ──► /usr/bin/etcd (127.0.0.1, t.TempDir())
//	     │                          ▲ Stop/Start keep the data dir
//	     └──► t.Cleanup stops it ───┘
package testutil
