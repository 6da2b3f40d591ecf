// Package k8s implements datastore.Backend on the Kubernetes API: every
// Calico kind is a custom resource of group projectcalico.org, version v3
// (the CRDs in manifests/crds, generated from api/v3), addressed through the
// dynamic client.
//
//	Key{Kind, Namespace, Name} ──► GVR projectcalico.org/v3/<plural> (v3.LookupKind)
//	KVPair.Value (resource JSON) ◄──► custom resource object (apiVersion, kind, metadata, spec)
//	KVPair.Revision              ◄──► metadata.resourceVersion
//
// Writes are compare-and-swap: Update sends the revision as
// metadata.resourceVersion (409 → ErrConflict), Delete sends it as a
// precondition. Lists at a revision use resourceVersionMatch=Exact (410 →
// ErrCompacted); watches start at a revision, resume by themselves from the
// last event or bookmark when the API server closes the stream, and end with
// an EventError wrapping ErrCompacted when the revision is gone.
// NamePrefix is applied client-side (the API has no name-prefix selector).
//
// Revisions are etcd revisions behind the API server, but the contract
// treats them as opaque and comparable only within one kind.
//
// View is a read-only Backend showing native objects as Calico kinds
// (Namespace/ServiceAccount → Profile, Pod → WorkloadEndpoint, Kubernetes
// NetworkPolicy → knp.default.*), converted by subpackage conversion; its
// revisions are the native objects' resourceVersions. NodeView shows
// Kubernetes Nodes as Calico Nodes and writes updates back as annotations.
//
// KDD is the kubernetes datastore (DATASTORE_TYPE=kubernetes): one Backend
// routing each kind to its source, as Calico's KDD does:
//
//	Profile          ──► composite(Namespace view kns.*, ServiceAccount view ksa.*)   read-only
//	WorkloadEndpoint ──► Pod view                                                    read-only
//	NetworkPolicy    ──► composite(knp.default.* view, NetworkPolicy CRD)
//	Node             ──► NodeView (updates → Kubernetes Node annotations and labels)
//	any other kind   ──► Backend (the CRDs)
//
// A composite kind's list and watch revisions join its sources' revisions
// with "/" so a watch resumes every source exactly (composite.go).
//
// Imports: internal/datastore, internal/datastore/k8s/conversion, api/v3
// (the kinds table), k8s.io/client-go (dynamic, rest), k8s.io/api and
// k8s.io/apimachinery.
package k8s
