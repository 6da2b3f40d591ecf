#!/usr/bin/env bash
# Runs the benchmarks and rewrites docs/benchmarks.md.
#
#   hack/bench.sh            run every section
#   hack/bench.sh felix bgp  run only these sections; the others keep their last result
#
# Each section is hack/bench.d/<NN>-<name>.sh. It is sourced with $tmp (a scratch
# directory) and must write its markdown, starting with a "## " heading, to
# "$frag". The document is the fragments in section order, each after a
# "<!-- section: <name> -->" marker; a section not run keeps the text it has
# in the current document. Every figure sits beside a baseline measured in the same run: these
# machines are noisy, ratios are what compare across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/benchmarks.md
tmp=$(mktemp -d)
frags=$tmp/frags
mkdir -p "$frags"
trap 'rm -rf "$tmp"' EXIT

# section NAME COMMAND...: runs a benchmark program, its output in $tmp/NAME.log.
section() {
	local name=$1; shift
	echo "bench: $name: $*" >&2
	if ! "$@" >"$tmp/$name.log" 2>&1; then
		echo "bench: $name failed:" >&2; tail -30 "$tmp/$name.log" >&2; exit 1
	fi
}
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "n/a"; else printf "%.2f", a/b }'; }

# previous NAME: the section's text in the current document (empty if none).
previous() { [ -f "$out" ] && awk -v n="<!-- section: $1 -->" '/^<!-- section: /{on = ($0 == n); next} on' "$out" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
wanted() { [ $# -eq 0 ] && return 0; local n; for n in "${@:2}"; do [ "$n" = "$1" ] && return 0; done; return 1; }

for script in hack/bench.d/*.sh; do
	name=$(basename "$script" .sh); name=${name#*-}
	frag="$frags/$name.md"
	if [ $# -eq 0 ] || wanted "$name" "$@"; then
		echo "bench: === $name ===" >&2
		# shellcheck source=/dev/null
		( source "$script" ) || { echo "bench: section $name failed" >&2; exit 1; }
		sed -i "1a\\
\\
_Measured $(date -u +%Y-%m-%d) — $(nproc) cores, $(go version | cut -d' ' -f3)._" "$frag"
	fi
done

{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (\`hack/bench.sh\`, one section per file in \`hack/bench.d/\`) on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores."
	echo "Every figure sits beside a baseline measured in the same run; compare ratios, not absolute numbers."
	for script in hack/bench.d/*.sh; do
		name=$(basename "$script" .sh); name=${name#*-}
		echo
		echo "<!-- section: $name -->"
		[ -s "$frags/$name.md" ] || previous "$name" >"$frags/$name.md"
		if [ -s "$frags/$name.md" ]; then cat "$frags/$name.md"; else echo "## $name"; echo; echo "_Not measured yet: run \`hack/bench.sh $name\`._"; fi
	done
} >"$tmp/doc.md"
mv "$tmp/doc.md" "$out"
echo "bench: wrote $out" >&2
