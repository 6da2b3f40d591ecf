// Package ctl implements calicoctl: Calico's resource commands (create,
// apply, replace, delete, get, patch, label), validate and version, with
// Calico's flags, messages and exit codes (0 on success, 1 on any failure).
//
// Every write command reads all documents, checks them as one batch
// (client.Plan: defaults, validation, cross-resource rules against the
// datastore plus the batch itself) and writes only when every document
// passes:
//
//	-f file|dir|-  ──► load.go: split documents, YAML→JSON, List/items
//	                       │
//	                       ▼
//	               decode.go: apiVersion, kind, unknown fields (by path),
//	                          typed decode; errors name file + document
//	                       │
//	                       ▼
//	               client.Plan ──► any error? report all, write nothing, exit 1
//	                       │
//	                       ▼
//	               client.Create/Update/Apply/Delete, one per document
//	                       │
//	                       ▼
//	               "Successfully applied 3 'IPPool' resource(s)"
//
// Output formats (printer.go, columns.go): ps and wide tables with Calico's
// per-kind columns, custom-columns, yaml, json, go-template(-file).
//
// ipam_*.go are `calicoctl ipam show|check|release|configure|split`, over
// internal/ipam on the same backend (docs/ctl.md, "calicoctl ipam").
//
// Imports: internal/client, internal/ipam, api/v3, internal/datastore
// (keys for IPAM's CAS deletes) and its memory backend (offline validate),
// cobra, sigs.k8s.io/yaml.
package ctl
