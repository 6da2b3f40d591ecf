package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// DefaultNamespace is where namespaced resources go when none is given, as
// calicoctl does.
const DefaultNamespace = "default"

// maxApplyAttempts bounds Apply's read-then-CAS loop under concurrent writers.
const maxApplyAttempts = 5

// Client is typed, validating CRUD over one datastore backend. It is safe for
// concurrent use (the backend's CAS is the only synchronisation needed).
type Client struct {
	be  datastore.Backend
	now func() time.Time
}

// New returns a client over backend. The client does not own the backend's
// lifetime unless Close is called.
func New(backend datastore.Backend) *Client {
	return &Client{be: backend, now: time.Now}
}

// Backend returns the underlying datastore backend.
func (c *Client) Backend() datastore.Backend { return c.be }

// Close closes the backend.
func (c *Client) Close() error { return c.be.Close() }

// Create stores a new resource after defaulting, validation and the
// cross-resource checks. It sets metadata.uid and creationTimestamp and
// returns the stored resource with its resourceVersion. The argument is not
// modified.
func (c *Client) Create(ctx context.Context, res v3.Resource) (v3.Resource, error) {
	res, err := c.prepare(res)
	if err != nil {
		return nil, err
	}
	if rv := res.GetResourceVersion(); rv != "" {
		return nil, fmt.Errorf("%s: metadata.resourceVersion %q must not be set when creating; remove it (or use apply/replace to change an existing resource)", ref(res), rv)
	}
	if err := c.checkWrite(ctx, storeView{c}, nil, res); err != nil {
		return nil, err
	}
	if err := c.ensureDefaultTier(ctx, res); err != nil {
		return nil, err
	}
	res.SetUID(newUID())
	res.SetCreationTimestamp(metav1.NewTime(c.now().UTC().Truncate(time.Second)))
	return c.write(ctx, res, false)
}

// Update replaces an existing resource with compare-and-swap on
// metadata.resourceVersion, which is required. Server-owned metadata (uid,
// creationTimestamp) is kept from the stored resource.
func (c *Client) Update(ctx context.Context, res v3.Resource) (v3.Resource, error) {
	res, err := c.prepare(res)
	if err != nil {
		return nil, err
	}
	if res.GetResourceVersion() == "" {
		return nil, fmt.Errorf("%s: metadata.resourceVersion is required to update; read the resource first (get) or use apply: %w", ref(res), datastore.ErrRevisionRequired)
	}
	old, err := c.getKey(ctx, keyOf(res))
	if err != nil {
		return nil, err
	}
	if old.GetResourceVersion() != res.GetResourceVersion() {
		return nil, fmt.Errorf("%s: resourceVersion %s is stale (current %s); re-read the resource and retry: %w",
			ref(res), res.GetResourceVersion(), old.GetResourceVersion(), datastore.ErrConflict)
	}
	if err := c.checkWrite(ctx, storeView{c}, old, res); err != nil {
		return nil, err
	}
	if err := c.ensureDefaultTier(ctx, res); err != nil {
		return nil, err
	}
	res.SetUID(old.GetUID())
	res.SetCreationTimestamp(old.GetCreationTimestamp())
	return c.write(ctx, res, true)
}

// Apply creates the resource or, if it exists, replaces it (CAS against the
// revision just read, retried a bounded number of times on conflict). A
// resourceVersion in the argument is ignored: apply always targets the
// current revision, as calicoctl apply does.
func (c *Client) Apply(ctx context.Context, res v3.Resource) (v3.Resource, error) {
	var lastErr error
	for attempt := 1; attempt <= maxApplyAttempts; attempt++ {
		cur, err := c.getKey(ctx, keyOfPrepared(res))
		switch {
		case errors.Is(err, datastore.ErrNotFound):
			in := copyOf(res)
			in.SetResourceVersion("")
			out, err := c.Create(ctx, in)
			if !errors.Is(err, datastore.ErrAlreadyExists) {
				return out, err
			}
			lastErr = err
		case err != nil:
			return nil, err
		default:
			in := copyOf(res)
			in.SetResourceVersion(cur.GetResourceVersion())
			out, err := c.Update(ctx, in)
			if !errors.Is(err, datastore.ErrConflict) && !errors.Is(err, datastore.ErrNotFound) {
				return out, err
			}
			lastErr = err
		}
		slog.Debug("apply raced with another writer; retrying", "resource", ref(res), "attempt", attempt, "err", lastErr)
	}
	return nil, fmt.Errorf("%s: gave up after %d attempts: %w", ref(res), maxApplyAttempts, lastErr)
}

// Get returns one resource. kind may be any name v3.LookupKind accepts; an
// empty namespace means "default" for namespaced kinds.
func (c *Client) Get(ctx context.Context, kind, namespace, name string) (v3.Resource, error) {
	key, err := resolveKey(kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return c.getKey(ctx, key)
}

// List returns every resource of a kind (in one namespace, or all namespaces
// when namespace is empty), sorted by namespace then name, and the revision
// the list is consistent with.
func (c *Client) List(ctx context.Context, kind, namespace string) ([]v3.Resource, string, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return nil, "", err
	}
	if !info.Namespaced && namespace != "" {
		return nil, "", fmt.Errorf("%s is not namespaced; drop the namespace", info.Kind)
	}
	kvs, err := c.be.List(ctx, datastore.ListOptions{Kind: info.Kind, Namespace: namespace})
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", info.Plural, err)
	}
	out := make([]v3.Resource, 0, len(kvs.Items))
	for i := range kvs.Items {
		r, err := decode(&kvs.Items[i])
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	return out, kvs.Revision, nil
}

// Delete removes a resource. A non-empty revision makes the delete
// conditional (CAS). Deleting the default tier, or a tier that still holds
// policies, is refused.
func (c *Client) Delete(ctx context.Context, kind, namespace, name, revision string) (v3.Resource, error) {
	key, err := resolveKey(kind, namespace, name)
	if err != nil {
		return nil, err
	}
	cur, err := c.getKey(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := c.checkDelete(ctx, storeView{c}, cur); err != nil {
		return nil, err
	}
	kv, err := c.be.Delete(ctx, key, revision)
	if err != nil {
		return nil, wrapStoreErr(cur, err)
	}
	return decode(kv)
}

// prepare copies res, fills TypeMeta and the default namespace, applies
// Calico's defaults and validates the resource on its own.
func (c *Client) prepare(in v3.Resource) (v3.Resource, error) {
	if in == nil || reflect.ValueOf(in).IsNil() {
		return nil, errors.New("no resource given")
	}
	res := copyOf(in)
	info, err := kindInfoOf(res)
	if err != nil {
		return nil, err
	}
	res.GetObjectKind().SetGroupVersionKind(v3.SchemeGroupVersion.WithKind(info.Kind))
	if info.Namespaced && res.GetNamespace() == "" {
		res.SetNamespace(DefaultNamespace)
	}
	res.Default()
	if err := res.Validate(); err != nil {
		return nil, err
	}
	return res, nil
}

// write encodes res and stores it (Create, or CAS Update at its
// resourceVersion), returning the stored copy with its new revision.
func (c *Client) write(ctx context.Context, res v3.Resource, update bool) (v3.Resource, error) {
	val, err := encode(res)
	if err != nil {
		return nil, err
	}
	kv := &datastore.KVPair{Key: keyOf(res), Value: val, Revision: res.GetResourceVersion()}
	var out *datastore.KVPair
	if update {
		out, err = c.be.Update(ctx, kv)
	} else {
		out, err = c.be.Create(ctx, kv)
	}
	if err != nil {
		return nil, wrapStoreErr(res, err)
	}
	res.SetResourceVersion(out.Revision)
	return res, nil
}

// getKey reads and decodes one resource.
func (c *Client) getKey(ctx context.Context, key datastore.Key) (v3.Resource, error) {
	kv, err := c.be.Get(ctx, key)
	if err != nil {
		if errors.Is(err, datastore.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", v3.ResourceRef(key.Kind, key.Namespace, key.Name), datastore.ErrNotFound)
		}
		return nil, fmt.Errorf("get %s: %w", v3.ResourceRef(key.Kind, key.Namespace, key.Name), err)
	}
	return decode(kv)
}

// wrapStoreErr rewrites a backend error as a sentence about res, keeping the
// sentinel for errors.Is.
func wrapStoreErr(res v3.Resource, err error) error {
	for _, s := range []error{datastore.ErrNotFound, datastore.ErrAlreadyExists, datastore.ErrConflict, datastore.ErrRevisionRequired} {
		if errors.Is(err, s) {
			return fmt.Errorf("%s: %w", ref(res), s)
		}
	}
	return fmt.Errorf("%s: %w", ref(res), err)
}

// resolveKey turns a kind alias, namespace and name into a datastore key,
// defaulting the namespace of namespaced kinds.
func resolveKey(kind, namespace, name string) (datastore.Key, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return datastore.Key{}, err
	}
	if name == "" {
		return datastore.Key{}, fmt.Errorf("%s: a name is required", info.Kind)
	}
	if info.Namespaced && namespace == "" {
		namespace = DefaultNamespace
	}
	if !info.Namespaced && namespace != "" {
		return datastore.Key{}, fmt.Errorf("%s is not namespaced; drop the namespace %q", info.Kind, namespace)
	}
	return datastore.Key{Kind: info.Kind, Namespace: namespace, Name: name}, nil
}

// keyOfPrepared is keyOf after TypeMeta and namespace defaulting, without
// validating (Apply reads before it writes).
func keyOfPrepared(res v3.Resource) datastore.Key {
	info, err := kindInfoOf(res)
	if err != nil {
		return keyOf(res)
	}
	ns := res.GetNamespace()
	if info.Namespaced && ns == "" {
		ns = DefaultNamespace
	}
	return datastore.Key{Kind: info.Kind, Namespace: ns, Name: res.GetName()}
}

// kindInfoOf finds the kind of res from its TypeMeta or, when that is empty
// (a struct built in Go without NewX), from its Go type name.
func kindInfoOf(res v3.Resource) (v3.KindInfo, error) {
	kind := res.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = reflect.TypeOf(res).Elem().Name()
	}
	info, err := v3.LookupKind(kind)
	if err != nil {
		return v3.KindInfo{}, err
	}
	if info.Kind != kind {
		return v3.KindInfo{}, fmt.Errorf("kind %q is not a projectcalico.org/v3 kind; did you mean %q?", kind, info.Kind)
	}
	return info, nil
}

// copyOf deep-copies a resource so callers' objects are never modified.
func copyOf(res v3.Resource) v3.Resource { return res.DeepCopyObject().(v3.Resource) }

// newUID returns a random (version 4) UUID from crypto/rand.
func newUID() types.UID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}
