package k8s

import (
	"context"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// listPageSize is how many objects one List request returns; later pages
// are read at the first page's revision (continue tokens), so a large list
// is still one consistent snapshot.
const listPageSize = 500

// deleteRetries bounds how often an unconditional Delete re-reads the
// object when it changes between the read and the delete.
const deleteRetries = 10

// Backend is datastore.Backend on a Kubernetes API server.
type Backend struct {
	client dynamic.Interface
}

var _ datastore.Backend = (*Backend)(nil)

// New returns a backend talking to the API server cfg points at (from a
// kubeconfig or the in-cluster configuration). The CRDs from manifests/crds
// must be installed.
func New(cfg *rest.Config) (*Backend, error) {
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes datastore: client for %s: %w", cfg.Host, err)
	}
	return &Backend{client: c}, nil
}

// Get returns the resource or an error wrapping ErrNotFound.
func (b *Backend) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	res, k, err := b.resourceFor(key)
	if err != nil {
		return nil, err
	}
	// A namespaced kind asked for without a namespace cannot exist.
	if k.namespaced && key.Namespace == "" {
		return nil, datastore.NotFoundError("get", key)
	}
	u, err := res.Get(ctx, key.Name, metav1.GetOptions{})
	if err != nil {
		return nil, b.mapError("get", k, key, err)
	}
	return fromObject(k.kind, u)
}

// Create stores a new resource; ErrAlreadyExists if the name is taken.
func (b *Backend) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	res, k, err := b.resourceFor(kv.Key)
	if err != nil {
		return nil, err
	}
	if k.namespaced && kv.Key.Namespace == "" {
		return nil, fmt.Errorf("create %s: %s is namespaced; set metadata.namespace", kv.Key, kv.Key.Kind)
	}
	obj, err := toObject(k, kv, "")
	if err != nil {
		return nil, fmt.Errorf("create %w", err)
	}
	// Server-owned fields a copied resource may carry would be refused.
	obj.SetUID("")
	out, err := res.Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		if k.namespaced && isMissingNamespace(err) {
			return nil, fmt.Errorf("create %s: namespace %q does not exist; create the namespace first (kubectl create namespace %s)", kv.Key, kv.Key.Namespace, kv.Key.Namespace)
		}
		if apierrors.IsAlreadyExists(err) {
			cur, gerr := res.Get(ctx, kv.Key.Name, metav1.GetOptions{})
			rev := ""
			if gerr == nil {
				rev = cur.GetResourceVersion()
			}
			return nil, datastore.AlreadyExistsError(kv.Key, rev)
		}
		return nil, b.mapError("create", k, kv.Key, err)
	}
	if out, err = writeStatus(ctx, res, k, obj, out); err != nil {
		return nil, fmt.Errorf("create %s: created without its status: %w; update it to retry the status", kv.Key, err)
	}
	return fromObject(k.kind, out)
}

// Update replaces the resource if its resourceVersion still equals
// kv.Revision. An update that changes nothing keeps the revision (the API
// server does not write unchanged objects).
func (b *Backend) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	res, k, err := b.resourceFor(kv.Key)
	if err != nil {
		return nil, err
	}
	if kv.Revision == "" {
		return nil, datastore.RevisionRequiredError(kv.Key)
	}
	if k.namespaced && kv.Key.Namespace == "" {
		return nil, datastore.NotFoundError("update", kv.Key)
	}
	obj, err := toObject(k, kv, kv.Revision)
	if err != nil {
		return nil, fmt.Errorf("update %w", err)
	}
	out, err := res.Update(ctx, obj, metav1.UpdateOptions{})
	if err != nil {
		if apierrors.IsConflict(err) {
			return nil, b.conflict(ctx, res, "update", kv.Key, kv.Revision, err)
		}
		return nil, b.mapError("update", k, kv.Key, err)
	}
	if out, err = writeStatus(ctx, res, k, obj, out); err != nil {
		return nil, fmt.Errorf("update %s: spec written, status not: %w; re-read the resource and retry", kv.Key, err)
	}
	return fromObject(k.kind, out)
}

// writeStatus writes want's status through the /status subresource when the
// kind has one and the status differs from what the main write stored. It
// is CAS-chained on the main write's resourceVersion, so a concurrent
// writer in between makes it fail rather than overwrite.
func writeStatus(ctx context.Context, res dynamic.ResourceInterface, k kindInfo, want, stored *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if !k.status {
		return stored, nil
	}
	status, found, _ := unstructured.NestedFieldNoCopy(want.Object, "status")
	cur, _, _ := unstructured.NestedFieldNoCopy(stored.Object, "status")
	if !found || reflect.DeepEqual(status, cur) {
		return stored, nil
	}
	next := stored.DeepCopy()
	next.Object["status"] = runtime.DeepCopyJSONValue(status)
	out, err := res.UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil, fmt.Errorf("%w: %v", datastore.ErrConflict, err)
	}
	return out, err
}

// Delete removes the resource, only at revision when it is non-empty. The
// object is read first so the deleted value can be returned; the delete then
// carries the read resourceVersion and uid as preconditions, so what is
// returned is exactly what was deleted.
func (b *Backend) Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error) {
	res, k, err := b.resourceFor(key)
	if err != nil {
		return nil, err
	}
	if k.namespaced && key.Namespace == "" {
		return nil, datastore.NotFoundError("delete", key)
	}
	for attempt := 0; ; attempt++ {
		cur, err := res.Get(ctx, key.Name, metav1.GetOptions{})
		if err != nil {
			return nil, b.mapError("delete", k, key, err)
		}
		if revision != "" && cur.GetResourceVersion() != revision {
			return nil, datastore.ConflictError("delete", key, revision, cur.GetResourceVersion())
		}
		rv, uid := cur.GetResourceVersion(), cur.GetUID()
		err = res.Delete(ctx, key.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv, UID: &uid}})
		switch {
		case err == nil:
			return fromObject(k.kind, cur)
		case apierrors.IsConflict(err) && revision != "":
			return nil, b.conflict(ctx, res, "delete", key, revision, err)
		case apierrors.IsConflict(err) && attempt < deleteRetries:
			continue // changed since the read; an unconditional delete retries
		default:
			return nil, b.mapError("delete", k, key, err)
		}
	}
}

// conflict builds the ErrConflict error of a failed CAS, naming the current
// revision (or ErrNotFound if the object has gone meanwhile).
func (b *Backend) conflict(ctx context.Context, res dynamic.ResourceInterface, op string, key datastore.Key, given string, cause error) error {
	cur, err := res.Get(ctx, key.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return datastore.NotFoundError(op, key)
	case err != nil:
		return fmt.Errorf("%w (%v)", datastore.ConflictError(op, key, given, "unknown"), cause)
	}
	return datastore.ConflictError(op, key, given, cur.GetResourceVersion())
}

// mapError turns an API error into the datastore's sentinels.
func (b *Backend) mapError(op string, k kindInfo, key datastore.Key, err error) error {
	switch {
	case isUnserved(err):
		return unservedError(op, k, key.String(), err)
	case apierrors.IsNotFound(err):
		return datastore.NotFoundError(op, key)
	case apierrors.IsAlreadyExists(err):
		return datastore.AlreadyExistsError(key, "")
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s %s: %w: %v", op, key, datastore.ErrConflict, err)
	}
	return apiError(op, key, err)
}

// List returns the matching resources sorted by namespace then name, read
// in pages at one resourceVersion; opts.Revision reads that exact revision.
func (b *Backend) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	res, k, err := b.listResource(opts)
	if err != nil {
		return nil, err
	}
	out, err := listConverted(ctx, res, opts, crConverter(k.kind))
	if err != nil {
		return nil, listError(k, opts, err)
	}
	return out, nil
}

// convertFunc turns an object read from the API server into the KV pair a
// consumer sees; ok is false for objects that have no Calico view.
type convertFunc func(u *unstructured.Unstructured) (kv *datastore.KVPair, ok bool, err error)

// crConverter converts custom resources of one kind (every object has a view).
func crConverter(kind string) convertFunc {
	return func(u *unstructured.Unstructured) (*datastore.KVPair, bool, error) {
		kv, err := fromObject(kind, u)
		return kv, err == nil, err
	}
}

// listConverted lists res in pages at one resourceVersion (opts.Revision
// exactly, when set), converts each object and keeps those opts selects
// (name prefix, and scope: a namespace never selects a cluster-scoped
// object), sorted by namespace then name. API errors are returned as they
// are, for the caller to map.
func listConverted(ctx context.Context, res dynamic.ResourceInterface, opts datastore.ListOptions, convert convertFunc) (*datastore.KVList, error) {
	lo := metav1.ListOptions{Limit: listPageSize}
	if opts.Revision != "" {
		lo.ResourceVersion = opts.Revision
		lo.ResourceVersionMatch = metav1.ResourceVersionMatchExact
	}
	out := &datastore.KVList{Items: []datastore.KVPair{}}
	for {
		page, err := res.List(ctx, lo)
		if err != nil {
			return nil, err
		}
		if out.Revision == "" {
			out.Revision = page.GetResourceVersion()
		}
		for i := range page.Items {
			kv, ok, err := convert(&page.Items[i])
			if err != nil {
				return nil, err
			}
			if ok && opts.Matches(kv.Key) {
				out.Items = append(out.Items, *kv)
			}
		}
		if page.GetContinue() == "" {
			break
		}
		lo = metav1.ListOptions{Limit: listPageSize, Continue: page.GetContinue()}
	}
	datastore.SortKVs(out.Items)
	return out, nil
}

// listError maps a List failure: 410 → ErrCompacted.
func listError(k kindInfo, opts datastore.ListOptions, err error) error {
	what := opts.Kind
	if opts.Namespace != "" {
		what += " in namespace " + opts.Namespace
	}
	switch {
	case isGone(err):
		return fmt.Errorf("%w (%v)", datastore.CompactedError("list "+what, opts.Revision, ""), err)
	case isUnserved(err):
		return unservedError("list", k, what, err)
	}
	return fmt.Errorf("list %s: %w", what, err)
}

// Close releases nothing: the dynamic client holds no resources beyond
// pooled connections.
func (b *Backend) Close() error { return nil }
