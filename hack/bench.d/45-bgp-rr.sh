# BGP route-reflector convergence: 100 simulated nodes (GoBGP speakers on 127.1.0.N in one test namespace)
# originate their blocks at once through our speaker as the RR, vs bird2 as the RR for the same clients.
section bgp-rr go test -run '^$' -bench PrivilegedRRConvergence -benchtime=1x ./internal/bgp/
metric() { grep "PrivilegedRRConvergence100/$1" "$tmp/bgp-rr.log" | awk -v m="$2" '{for (i=1;i<=NF;i++) if ($i==m) print $(i-1)}' | tail -1; }
row() { printf '| %s | %s | %s | %s–%s | %s |\n' "$1" "$(metric "$2" converge-ms)" "$3" "$(metric "$2" min-ms)" "$(metric "$2" max-ms)" "$(metric "$2" sessions-ms)"; }
ours=$(metric tricolor-rr converge-ms); birds=$(metric bird2-rr converge-ms)
{
	echo "## BGP route-reflector convergence, 100 nodes (\`internal/bgp\`) vs bird2"
	echo
	echo "100 simulated nodes (GoBGP speakers on 127.1.0.1–100, one process, one test namespace) peer only with a route"
	echo "reflector on 127.0.0.1. Once every session is up, each originates its /26 at the same moment; a round lasts until"
	echo "every client holds all 99 other blocks, then all are withdrawn. Five rounds per reflector; the figure is the median."
	echo "The clients are the same in both rows; only the reflector differs. On a shared 2-core machine the rounds spread"
	echo "widely (the 100 clients share the cores with the reflector), so read the ratio together with the ranges."
	echo
	echo "| Route reflector | converged, median (ms) | ratio to bird2 | rounds min–max (ms) | sessions up (ms) |"
	echo "|---|---|---|---|---|"
	row "baseline: bird2" bird2-rr 1.00
	row "Tricolor (embedded GoBGP, cluster ID 244.0.0.1)" tricolor-rr "$(ratio "$ours" "$birds")"
} >"$frag"
