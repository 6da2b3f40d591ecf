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
awk '
/^BenchmarkEvaluate/ { name=$1; sub(/-[0-9]+$/, "", name); v[name]=v[name] " " $3; a[name]=$5 }
END {
	for (n in v) { k=split(substr(v[n],2), xs, " "); asort(xs); med[n]=(k%2)?xs[(k+1)/2]:(xs[k/2]+xs[k/2+1])/2 }
	base=med["BenchmarkEvaluateBaseline10MapLookups"]
	print "| Benchmark | ns/op (median of 8) | allocs/op | ratio to baseline |"
	print "|---|---|---|---|"
	printf "| baseline: 10 map lookups, no evaluation | %.0f | 0 | 1.00 |\n", base
	printf "| `Evaluate`, 10-term selector, 20 labels | %.0f | %s | %.2f |\n", med["BenchmarkEvaluate10Terms20Labels"], a["BenchmarkEvaluate10Terms20Labels"], med["BenchmarkEvaluate10Terms20Labels"]/base
	printf "| `EvaluateLabels` (Labels interface) | %.0f | %s | %.2f |\n", med["BenchmarkEvaluateLabels10Terms20Labels"], a["BenchmarkEvaluateLabels10Terms20Labels"], med["BenchmarkEvaluateLabels10Terms20Labels"]/base
}' "$tmp/selector.log" >"$tmp/selector.md"

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
	echo "## CNI ADD / DEL latency (\`cmd/calico\`) vs ptp + host-local"
	echo
	cat "$tmp/cni.md"
} >"$out"
echo "bench: wrote $out" >&2
