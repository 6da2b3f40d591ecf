// Package controllers is calico-kube-controllers: level-triggered
// reconcilers that keep Calico's datastore in step with the Kubernetes API.
//
//	Kubernetes API ──informers──► handlers enqueue keys ──► workqueue ──► Reconcile(key)
//	                                                                         │ re-reads the
//	                                                                         ▼ current state
//	                                      datastore (CAS writes) ◄── node / ipam / mirrors
//
// Controllers (ENABLED_CONTROLLERS, Calico's names):
//
//   - node: a deleted Kubernetes Node → its Calico Node deleted (etcd
//     mode), the addresses it held whose owners are gone released, and its
//     block affinities released (node.go). Also runs IPAM garbage
//     collection: allocations whose pod is gone, released after the leak
//     grace period and only if still leaked at that moment (ipamgc.go).
//     For live Calico Nodes (nodesync.go): syncLabels copies the
//     Kubernetes Node's labels onto them in etcd mode (nodelabels.go), and
//     hostEndpoint.autoCreate keeps one "<node>-auto-hep" host endpoint
//     each, deleting the ones it created (label projectcalico.org/created-by)
//     when the node goes or autoCreate is off (hostendpoints.go).
//   - policy, namespace, serviceaccount (etcd mode): Kubernetes
//     NetworkPolicies, Namespaces and ServiceAccounts mirrored into
//     knp.default.*, kns.* and ksa.* resources (mirror.go), converted by
//     internal/datastore/k8s/conversion.
//   - workloadendpoint (etcd mode): pod labels copied onto the pod's
//     existing WorkloadEndpoints (podlabels.go).
//
// Only the holder of the coordination.k8s.io Lease runs controllers
// (leader.go); health and Prometheus metrics are served on one port
// (server.go), the probes backed by Calico's datastore and API server
// checks unless healthChecks is Disabled (healthcheck.go).
//
// Configuration (config.go, kcc.go, kccsync.go): defaults < the
// KubeControllersConfiguration "default" < Calico's environment
// variables. With Config.Environment set, the Manager follows the
// resource as Calico does — creates it with Calico's defaults when
// missing, and while leading writes status.runningConfig and
// status.environmentVars — and when its settings change it stops every
// controller and starts them again with the new configuration inside the
// process (Calico restarts the process instead):
//
//	kccSync (leader) ──Config──► lead: stop controllers, move the metrics port, start them again
//	   ▲  │ status (CAS)
//	   └──┴── datastore: KubeControllersConfiguration "default" (watched)
//
// Imports: api/v3, internal/datastore (the Backend contract), internal/client
// (typed CRUD of the KubeControllersConfiguration), internal/ipam,
// internal/datastore/k8s/conversion, internal/logging (level names),
// client-go. The datastore backend is built by the caller
// (cmd/calico-kube-controllers).
package controllers
