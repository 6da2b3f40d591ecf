# CNI ADD/DEL latency of our plugin vs Debian's ptp + host-local.
section cni go run ./bench/cni -out "$tmp/cni.md"
{ echo "## CNI ADD / DEL latency (\`cmd/calico\`) vs ptp + host-local"; echo; cat "$tmp/cni.md"; } >"$frag"
