# Embedded etcd vs an external Debian etcd process: CAS writes/s and watch latency.
section datastore go run ./bench/datastore -out "$tmp/datastore.md"
{ echo "## Datastore (\`internal/datastore\`): embedded etcd vs external etcd"; echo; cat "$tmp/datastore.md"; } >"$frag"
