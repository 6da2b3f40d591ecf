# Felix: pod-to-pod throughput and policy programming latency through a node
# whose nftables Felix programmed from an embedded etcd (bench/felix, root,
# iperf3), and the calc graph's full sync (fresh processes) and per-change
# cost (Go benchmarks), each beside a baseline from the same run.
go build -o "$tmp/bench-felix" ./bench/felix
section felix "$tmp/bench-felix" -rounds 9 -out "$tmp/felix.md"
section felix-fullsync go test -run '^$' -bench 'Graph_FullSync$' -benchtime 3x ./internal/calc/
section felix-change go test -run '^$' -bench 'Graph_(Endpoint|RemoteEndpoint)LabelChange$' -benchtime 300x -count 3 ./internal/calc/
# nsop LOG NAME: the median ns/op of benchmark NAME in LOG.
nsop() {
	grep "^$2-" "$tmp/$1.log" | awk '{print $3}' | sort -n |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
full=$(nsop felix-fullsync BenchmarkGraph_FullSync)
{
	echo "## Felix (\`internal/felix\`, \`internal/calc\`, \`internal/dataplane\`)"
	echo
	echo "Rerun with \`hack/bench.sh felix\` (as root; about four minutes on a quiet 2-core machine). Program: \`bench/felix\`; Go benchmarks: \`internal/calc/bench_test.go\`."
	echo
	cat "$tmp/felix.md"
	echo
	echo "Per-change cost (Go benchmarks, same 10,000-endpoint / 2,000-policy cluster, median of 3 runs of 300 changes each; change + \`Flush\`). Baseline: a full sync of the same cluster in the same \`go test\` process."
	echo
	echo "| Measurement | time | ratio to full sync |"
	echo "|---|---|---|"
	printf '| full sync (baseline) | %.0f ms | 1 |\n' "$(awk -v n="$full" 'BEGIN{print n/1e6}')"
	for b in EndpointLabelChange:"local endpoint label change (leaves one policy, joins another)" RemoteEndpointLabelChange:"remote endpoint label change (IP set deltas only)"; do
		m=$(nsop felix-change "BenchmarkGraph_${b%%:*}")
		printf '| %s | %.3f ms | 1/%.0f |\n' "${b#*:}" "$(awk -v n="$m" 'BEGIN{print n/1e6}')" "$(awk -v a="$full" -v b="$m" 'BEGIN{print a/b}')"
	done
} >"$frag"
