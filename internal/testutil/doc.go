// Package testutil holds helpers shared by tests across Tricolor: the gate
// for tests that need root, free loopback ports, and real peers such as
// Debian's external etcd started on loopback for the duration of one test.
//
// Network namespaces: NewNetns (per test) or CreateNetns/Delete (for
// programs such as bench/felix), Veth, Fabric, and WireWorkload /
// PrepareWorkloadNode to wire a pod to a node as Calico's CNI does.
// Subpackage loadgen builds synthetic clusters for Felix's benchmarks.
//
// Imports: the standard library and internal/relay (itself standard-library
// only), plus client-go for the kube-apiserver harness; any package's tests
// may use it.
//
//	test ──► StartEtcdProcess ──► /usr/bin/etcd (127.0.0.1, t.TempDir())
//	     │                          ▲ Stop/Start keep the data dir
//	     └──► t.Cleanup stops it ───┘
package testutil
