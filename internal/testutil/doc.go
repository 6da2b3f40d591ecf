// Package testutil holds helpers shared by tests across Tricolor: the gate
// for tests that need root, free loopback ports, and real peers such as
// Debian's external etcd started on loopback for the duration of one test.
//
// Imports: the standard library and internal/relay (itself standard-library
// only), plus client-go for the kube-apiserver harness; any package's tests
// may use it.
//
//	test ──► StartEtcdProcess ──► /usr/bin/etcd (127.0.0.1, t.TempDir())
//	     │                          ▲ Stop/Start keep the data dir
//	     └──► t.Cleanup stops it ───┘
package testutil
