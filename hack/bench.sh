#!/usr/bin/env bash
# Runs every benchmark and rewrites docs/benchmarks.md. Each figure is reported
# next to a baseline measured in the same run, as a ratio: these machines are
# noisy, ratios are what compare across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

section() { # name, command... : runs a benchmark program that writes a markdown fragment to $tmp/<name>.md
	local name=$1; shift
	echo "bench: $name" >&2
	if ! "$@" >"$tmp/$name.log" 2>&1; then
		echo "bench: $name failed:" >&2; tail -20 "$tmp/$name.log" >&2; exit 1
	fi
}

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
	echo "| Benchmark | ns/op (median of 8) | allocs/op | ratio to baseline |"
	echo "|---|---|---|---|"
	printf '| baseline: 10 map lookups, no evaluation | %.0f | 0 | 1.00 |\n' "$base"
	for b in Evaluate10Terms20Labels EvaluateLabels10Terms20Labels; do
		m=$(median "Benchmark$b")
		printf '| `%s` | %.0f | %s | %.2f |\n' "$b" "$m" "$(allocs "Benchmark$b")" "$(awk -v a="$m" -v b="$base" 'BEGIN{print a/b}')"
	done
} >"$tmp/selector.md"

# BGP ingest: 10,000 prefixes from a bird2 peer into our kernel vs bird2 taking the same set from us.
section bgp go test -run '^$' -bench PrivilegedIngest -benchtime=1x ./internal/bgp/
rate() { grep "PrivilegedIngest10k/$1" "$tmp/bgp.log" | awk '{for (i=1;i<=NF;i++) if ($i=="routes/s") print $(i-1)}' | tail -1; }
ours=$(rate bird-to-ours); birds=$(rate ours-to-bird)
{
	echo "| Direction | routes/s | ratio to bird2 |"
	echo "|---|---|---|"
	printf '| baseline: bird2 ingesting 10,000 prefixes from our speaker | %.0f | 1.00 |\n' "$birds"
	printf '| Tricolor ingesting 10,000 prefixes from bird2 (first to last route in the kernel) | %.0f | %.2f |\n' "$ours" "$(awk -v a="$ours" -v b="$birds" 'BEGIN{print a/b}')"
} >"$tmp/bgp.md"

section datastore go run ./bench/datastore -out "$tmp/datastore.md"
section ipam go run ./bench/ipam -out "$tmp/ipam.md"
section cni go run ./bench/cni -out "$tmp/cni.md"

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` on $(date -u +%Y-%m-%d) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)."
	echo "Every figure sits beside a baseline measured in the same run; compare ratios, not absolute numbers."
	echo
	echo "## Selector evaluation (\`internal/selector\`)"
	echo
	echo "Target: under 200 ns/op with no allocations for a 10-term selector against 20 labels (every term matches, so all ten are evaluated)."
	echo
	cat "$tmp/selector.md"
	echo
	echo "## Datastore (\`internal/datastore\`): embedded etcd vs external etcd"
	echo
	cat "$tmp/datastore.md"
	echo
	echo "## IPAM (\`internal/ipam\`)"
	echo
	cat "$tmp/ipam.md"
	echo
	echo "## BGP route ingest (\`internal/bgp\`) vs bird2"
	echo
	cat "$tmp/bgp.md"
	echo
	echo "## CNI ADD / DEL latency (\`cmd/calico\`) vs ptp + host-local"
	echo
	cat "$tmp/cni.md"
} >"$out"
echo "bench: wrote $out" >&2
