#!/usr/bin/env bash
# make demo: `calico-lab demo` (cmd/calico-lab/demo.go) builds the README's
# three-node cluster of network namespaces (embedded etcd, real calico-node
# processes, pods made by the real CNI plugin), prints reachability before
# and after policy, BGP status, a node's routes and IPAM, shows bad input
# refused without a write, and tears everything down, also on failure or ^C.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: needs root (it builds network namespaces)" >&2; exit 1; }
exec bin/calico-lab demo "$@"
