# Kubernetes datastore (k8s.KDD) against a real kube-apiserver: Pods → WorkloadEndpoints conversion
# throughput (10,000 pods, vs plain JSON decoding), listing 10,000 pods as WorkloadEndpoints (vs the raw
# pod list), and Pod label change → calc IP set delta latency (vs a Calico NetworkSet, vs the raw watch).
section kubernetes go run ./bench/kubernetes -out "$tmp/kubernetes.md"
{ echo "## Kubernetes datastore (\`internal/datastore/k8s\`): Pod conversion and Pod → IP set latency"; echo; cat "$tmp/kubernetes.md"; } >"$frag"
