# IPAM allocation rate and latency, cache on vs off.
section ipam go run ./bench/ipam -out "$tmp/ipam.md"
{ echo "## IPAM (\`internal/ipam\`)"; echo; cat "$tmp/ipam.md"; } >"$frag"
