# BGP ingest: 10,000 prefixes from a bird2 peer into our kernel vs bird2 taking the same set from us.
section bgp go test -run '^$' -bench PrivilegedIngest -benchtime=1x ./internal/bgp/
rate() { grep "PrivilegedIngest10k/$1" "$tmp/bgp.log" | awk '{for (i=1;i<=NF;i++) if ($i=="routes/s") print $(i-1)}' | tail -1; }
ours=$(rate bird-to-ours); birds=$(rate ours-to-bird)
{
	echo "## BGP route ingest (\`internal/bgp\`) vs bird2"
	echo
	echo "| Direction | routes/s | ratio to bird2 |"
	echo "|---|---|---|"
	printf '| baseline: bird2 ingesting 10,000 prefixes from our speaker | %.0f | 1.00 |\n' "$birds"
	printf '| Tricolor ingesting 10,000 prefixes from bird2 (first to last route in the kernel) | %.0f | %s |\n' "$ours" "$(ratio "$ours" "$birds")"
} >"$frag"
