package datastore

import (
	"context"
	"errors"
	"fmt"
)

// Key identifies one stored resource. It is deliberately the same triple a
// Kubernetes CRD object is addressed by (kind → resource plural, namespace,
// name), so a Kubernetes backend can implement Backend without a different
// contract.
type Key struct {
	// Kind is the projectcalico.org/v3 kind, e.g. "IPPool".
	Kind string
	// Namespace is empty for cluster-scoped kinds.
	Namespace string
	// Name is the resource name.
	Name string
}

// String renders the key as "Kind(namespace/name)" for logs and errors.
func (k Key) String() string {
	if k.Namespace == "" {
		return fmt.Sprintf("%s(%s)", k.Kind, k.Name)
	}
	return fmt.Sprintf("%s(%s/%s)", k.Kind, k.Namespace, k.Name)
}

// KVPair is one stored resource: its key, its encoded value and the revision
// at which it was last written.
type KVPair struct {
	Key Key
	// Value is the resource's JSON encoding. Backends store it verbatim and
	// never interpret it (the Kubernetes backend is the one exception: it maps
	// it onto a CRD object and back).
	Value []byte
	// Revision is opaque to callers: the etcd mod revision or the Kubernetes
	// resourceVersion, as a decimal string. It is the compare-and-swap token.
	Revision string
}

// ListOptions selects what List and Watch cover.
type ListOptions struct {
	// Kind is required.
	Kind string
	// Namespace restricts a namespaced kind to one namespace; empty means all.
	Namespace string
	// NamePrefix restricts the result to names starting with it.
	NamePrefix string
	// Revision, when set, asks List for the state as of that revision
	// (ErrCompacted if it is no longer available).
	Revision string
}

// KVList is the result of List: the items, sorted by namespace then name,
// and the datastore revision the list is consistent with. Watching from that
// revision delivers exactly the changes after the list.
type KVList struct {
	Items    []KVPair
	Revision string
}

// EventType says what a watch event reports.
type EventType int

const (
	// EventAdded reports a newly created resource.
	EventAdded EventType = iota + 1
	// EventModified reports an update of an existing resource.
	EventModified
	// EventDeleted reports a deletion; Previous holds the last value.
	EventDeleted
	// EventError reports a watch failure; the watch channel closes after it.
	// Err wraps ErrCompacted when the requested revision is gone, in which
	// case the consumer must re-list (the syncer does this itself).
	EventError
)

// String names the event type.
func (t EventType) String() string {
	switch t {
	case EventAdded:
		return "added"
	case EventModified:
		return "modified"
	case EventDeleted:
		return "deleted"
	case EventError:
		return "error"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// WatchEvent is one change delivered by a Watcher.
type WatchEvent struct {
	Type EventType
	// New is the resource after the change (nil for deletions and errors).
	New *KVPair
	// Previous is the resource before the change when the backend knows it
	// (always set for deletions).
	Previous *KVPair
	// Revision is the datastore revision of the change.
	Revision string
	// Err is set for EventError.
	Err error
}

// Watcher streams changes until stopped or until its context ends.
type Watcher interface {
	// Events delivers changes in revision order. It is closed after Stop,
	// after the context ends, or after an EventError.
	Events() <-chan WatchEvent
	// Stop ends the watch and releases its resources. Safe to call twice.
	Stop()
}

// Backend is the one contract every datastore implements: a keyed store of
// encoded resources with revisions, compare-and-swap writes and watches.
type Backend interface {
	// Get returns the resource or an error wrapping ErrNotFound.
	Get(ctx context.Context, key Key) (*KVPair, error)
	// List returns every resource matching opts and the revision it is
	// consistent with.
	List(ctx context.Context, opts ListOptions) (*KVList, error)
	// Create stores a new resource; ErrAlreadyExists if the key is taken.
	// The returned pair carries the new revision.
	Create(ctx context.Context, kv *KVPair) (*KVPair, error)
	// Update replaces a resource if and only if its current revision equals
	// kv.Revision (compare-and-swap); ErrConflict otherwise, ErrNotFound if it
	// does not exist. An empty kv.Revision is rejected with ErrRevisionRequired:
	// every write in Tricolor is a CAS.
	Update(ctx context.Context, kv *KVPair) (*KVPair, error)
	// Delete removes a resource. If revision is non-empty the delete only
	// happens when it matches (ErrConflict otherwise). Returns the deleted
	// pair; ErrNotFound if absent.
	Delete(ctx context.Context, key Key, revision string) (*KVPair, error)
	// Watch streams changes to resources matching opts (Revision is ignored)
	// strictly after fromRevision; empty fromRevision means "from now".
	Watch(ctx context.Context, opts ListOptions, fromRevision string) (Watcher, error)
	// Close releases connections. The backend is unusable afterwards.
	Close() error
}

// Sentinel errors. Backends wrap them with context (the key, the revisions)
// so callers test with errors.Is and users read a complete sentence.
var (
	ErrNotFound         = errors.New("resource does not exist")
	ErrAlreadyExists    = errors.New("resource already exists")
	ErrConflict         = errors.New("resource was modified concurrently (revision mismatch)")
	ErrRevisionRequired = errors.New("update needs the revision it was read at (compare-and-swap)")
	ErrCompacted        = errors.New("requested revision has been compacted")
)
