// Package cluster is a real Kubernetes cluster in network namespaces with
// Tricolor as its network, for the privileged end-to-end tests: the
// control plane (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, calico-kube-controllers) in one namespace, each
// worker node (containerd, kubelet, calico-node) in its own, all on one
// fabric segment 198.18.0.0/24 with no way out of the lab.
//
//	                   tc-fabric-* (br0 198.18.0.1: default gateway, routes nowhere)
//	      ┌──────────────────────┼───────────────────────┐
//	tc-cp-* .10             tc-node1-* .11           tc-node2-* .12
//	etcd, kube-apiserver    containerd, kubelet,     containerd, kubelet,
//	:6443, scheduler,       calico-node (Felix,      calico-node
//	controller-manager      BGP), pods cali…         pods cali…
//
// Every component is started with `nsenter --net=/run/netns/<ns>` (not
// `ip netns exec`, which remounts /sys and hides the cgroup mounts runc
// needs). Kubernetes binaries come from .cache/bin (`make k8s-bins`);
// Tricolor's are built from the checkout; the pause and agnhost images are
// local OCI tarballs imported into each node's containerd. Tricolor is
// installed as its DaemonSet would: `calico-node install-cni` writes the
// CNI binaries, kubeconfig and conflist, then calico-node runs with the
// DaemonSet's environment (DATASTORE_TYPE=kubernetes).
//
// The test process reaches the API server by dialling into the
// control-plane namespace (Config.Dial); nothing is added to the root
// namespace. Down (registered with t.Cleanup) removes processes,
// container shims, mounts, cgroups, sandbox namespaces and files, also
// after a failure.
package cluster
