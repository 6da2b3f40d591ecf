# A real two-node Kubernetes cluster (test/cluster: kubelet + containerd per node, Tricolor installed
# with install-cni + calico-node in KDD mode): pod creation → Ready for 50 pods against host-network
# pods (no CNI) created the same way, and NetworkPolicy create → enforced (ping stops) against
# create → seen by an API watch. Needs `make k8s-bins`. About 8 min on the shared VM.
section cluster env TRICOLOR_CLUSTER_BENCH="$tmp/cluster.md" go test -count=1 -timeout 30m -run TestPrivilegedCluster_Bench ./test/cluster/
{
	echo "## Kubernetes cluster (\`test/cluster\`): pod ready time, NetworkPolicy enforcement latency"
	echo
	cat "$tmp/cluster.md"
} >"$frag"
