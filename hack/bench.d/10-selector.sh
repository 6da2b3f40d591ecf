# Selector evaluation: Go benchmark, median of 8 runs, against a bare map-lookup baseline.
section selector go test -run '^$' -bench 'Evaluate' -count 8 ./internal/selector/
# median NAME: the median ns/op of benchmark NAME over the runs in selector.log.
median() {
	grep "^$1-" "$tmp/selector.log" | awk '{print $3}' | sort -n |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
allocs() { grep "^$1-" "$tmp/selector.log" | awk '{print $7}' | sort -n | tail -1; }
base=$(median BenchmarkEvaluateBaseline10MapLookups)
{
	echo "## Selector evaluation (\`internal/selector\`)"
	echo
	echo "Target: under 200 ns/op with no allocations for a 10-term selector against 20 labels (every term matches, so all ten are evaluated)."
	echo
	echo "| Benchmark | ns/op (median of 8) | allocs/op | ratio to baseline |"
	echo "|---|---|---|---|"
	printf '| baseline: 10 map lookups, no evaluation | %.0f | 0 | 1.00 |\n' "$base"
	for b in Evaluate10Terms20Labels EvaluateLabels10Terms20Labels; do
		m=$(median "Benchmark$b")
		printf '| `%s` | %.0f | %s | %s |\n' "$b" "$m" "$(allocs "Benchmark$b")" "$(ratio "$m" "$base")"
	done
} >"$frag"
