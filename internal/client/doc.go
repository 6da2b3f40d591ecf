// Package client is Tricolor's typed, validating CRUD layer over a
// datastore.Backend. Every write goes through the same pipeline, so calicoctl,
// the CNI plugin, the controllers and calico-node all get Calico's defaults,
// validation and cross-resource rules:
//
//	Create/Update/Apply(res)
//	   │ namespace "default" for namespaced kinds left empty
//	   ▼
//	res.Default() ──► res.Validate() ──► cross-resource checks (checks.go)
//	   │                                    (pool overlap, immutable CIDR,
//	   │                                     tier exists, default tier kept)
//	   ▼ nothing is written if any step fails
//	encode (JSON, resourceVersion stripped) ──► Backend.Create / CAS Update
//	   ▼
//	decode (metadata.resourceVersion = KV revision) ──► caller
//
// Plan runs the same checks for a batch of writes against the datastore
// overlaid with the batch itself, so a multi-document apply can be validated
// as a whole before anything is written.
//
// config.go and open.go load Calico's CalicoAPIConfig (file or environment)
// and open the matching backend: an external etcd cluster, the embedded
// etcd server, or the kubernetes datastore (kube.go: kubeconfig or
// in-cluster configuration → k8s.KDD).
//
// Imports: api/v3, internal/datastore and its backends, internal/ipam (to
// refuse deleting an IPPool that still has IPAM blocks; ipam never imports
// client), apimachinery, sigs.k8s.io/yaml. Never imports ctl or anything
// above it.
package client
