# Pod-to-pod TCP throughput and latency on a calico-lab cluster (same node; cross node BGP no-encap;
# cross subnet VXLAN) as a ratio to raw veth routing of the same shape without Tricolor, and
# pod-ready time (creation → first allowed packet) for 100 pods against CNI ADD alone. About 3 min.
section lab go run ./bench/lab -rounds 7 -iperf-seconds 2 -rtts 2000 -pods 100 -out "$tmp/lab.md"
{
	echo "## Lab (\`calico-lab\`): pod-to-pod TCP vs raw veth routing, pod-ready time"
	echo
	cat "$tmp/lab.md"
} >"$frag"
