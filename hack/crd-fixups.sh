#!/bin/sh
# Schema details controller-gen cannot express, applied after `make generate`
# (Calico hand-edits the same ones into its CRDs).
#
# IPAMBlock spec.allocations is []*int: one entry per address, null when the
# address is free. controller-gen has no marker for nullable slice items, so
# without this the API server refuses every block ("must be of type integer").
set -eu
f=${1:-manifests/crds}/projectcalico.org_ipamblocks.yaml
awk '
  /^ *allocations:$/ { inalloc = 1 }
  { print }
  inalloc && /^ *items:$/ {
    indent = $0; sub(/items:$/, "", indent)
    getline nxt
    if (nxt !~ /nullable: true/) print indent "  nullable: true"
    print nxt
    inalloc = 0
  }
' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
