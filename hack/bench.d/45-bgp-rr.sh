# BGP route-reflector convergence: 100 simulated nodes (GoBGP speakers on 127.1.0.N in one test namespace)
# originate their blocks at once through our speaker as the RR, vs bird2 as the RR for the same clients.
section bgp-rr go test -run '^$' -bench PrivilegedRRConvergence -benchtime=1x ./internal/bgp/
metric() { grep "PrivilegedRRConvergence100/$1" "$tmp/bgp-rr.log" | awk -v m="$2" '{for (i=1;i<=NF;i++) if ($i==m) print $(i-1)}' | tail -1; }
ours=$(metric tricolor-rr converge-ms); birds=$(metric bird2-rr converge-ms)
ours_up=$(metric tricolor-rr sessions-ms); birds_up=$(metric bird2-rr sessions-ms)
{
	echo "## BGP route-reflector convergence, 100 nodes (\`internal/bgp\`) vs bird2"
	echo
	echo "100 simulated nodes (GoBGP speakers on 127.1.0.1–100, one process, one test namespace) peer only with a route"
	echo "reflector on 127.0.0.1. Once every session is up, each originates its /26 at the same moment; the time runs until"
	echo "every client holds all 99 other blocks. The clients are the same in both rows; only the reflector differs."
	echo
	echo "| Route reflector | blocks converged (ms) | ratio to bird2 | sessions up (ms) |"
	echo "|---|---|---|---|"
	printf '| baseline: bird2 | %s | 1.00 | %s |\n' "$birds" "$birds_up"
	printf '| Tricolor (embedded GoBGP, cluster ID 244.0.0.1) | %s | %s | %s |\n' "$ours" "$(ratio "$ours" "$birds")" "$ours_up"
} >"$frag"
