package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// DefaultHistoryLimit is how many changes New keeps for watches and
// point-in-time lists.
const DefaultHistoryLimit = 50000

// errClosed is returned by every method after Close.
var errClosed = errors.New("memory datastore is closed")

// Backend is an in-process datastore.Backend. The zero value is not usable;
// call New.
type Backend struct {
	mu       sync.Mutex
	rev      int64
	items    map[datastore.Key]*entry
	history  []change // oldest first; every change with revision > oldest
	limit    int
	oldest   int64 // reads and watches at revisions below this fail with ErrCompacted
	watchers map[*watcher]struct{}
	closed   bool
}

var _ datastore.Backend = (*Backend)(nil)

// entry is the stored state of one key.
type entry struct {
	value []byte
	rev   int64
}

// change is one history record: what a key held before and after a write.
// A nil after is a deletion; a nil before is a creation.
type change struct {
	rev    int64
	key    datastore.Key
	before *entry
	after  *entry
}

// New returns an empty backend keeping DefaultHistoryLimit changes.
func New() *Backend {
	return NewWithHistory(DefaultHistoryLimit)
}

// NewWithHistory returns an empty backend that keeps the last limit changes
// (at least 1). Older revisions behave as compacted.
func NewWithHistory(limit int) *Backend {
	if limit < 1 {
		limit = 1
	}
	return &Backend{
		items:    map[datastore.Key]*entry{},
		limit:    limit,
		watchers: map[*watcher]struct{}{},
	}
}

// Revision returns the current datastore revision.
func (b *Backend) Revision() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return datastore.FormatRevision(b.rev)
}

// Get implements datastore.Backend.
func (b *Backend) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	e, ok := b.items[key]
	if !ok {
		return nil, datastore.NotFoundError("get", key)
	}
	return e.pair(key), nil
}

// List implements datastore.Backend.
func (b *Backend) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	if err := datastore.ValidateListOptions(opts); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	state, at := b.items, b.rev
	if opts.Revision != "" {
		rev, err := datastore.ParseRevision("list revision", opts.Revision)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", opts.Kind, err)
		}
		if rev < b.oldest {
			return nil, datastore.CompactedError("list "+opts.Kind, opts.Revision, datastore.FormatRevision(b.oldest))
		}
		if rev > b.rev {
			return nil, fmt.Errorf("list %s at revision %s: that revision is in the future (current %d)", opts.Kind, opts.Revision, b.rev)
		}
		state, at = b.stateAt(rev), rev
	}
	out := &datastore.KVList{Revision: datastore.FormatRevision(at), Items: []datastore.KVPair{}}
	for k, e := range state {
		if opts.Matches(k) {
			out.Items = append(out.Items, *e.pair(k))
		}
	}
	datastore.SortKVs(out.Items)
	return out, nil
}

// stateAt rebuilds the key space as of rev by undoing newer changes.
// Caller holds b.mu and has checked rev >= b.oldest.
func (b *Backend) stateAt(rev int64) map[datastore.Key]*entry {
	state := make(map[datastore.Key]*entry, len(b.items))
	for k, e := range b.items {
		state[k] = e
	}
	for i := len(b.history) - 1; i >= 0 && b.history[i].rev > rev; i-- {
		c := b.history[i]
		if c.before == nil {
			delete(state, c.key)
		} else {
			state[c.key] = c.before
		}
	}
	return state
}

// Create implements datastore.Backend.
func (b *Backend) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(kv.Key); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if e, ok := b.items[kv.Key]; ok {
		return nil, datastore.AlreadyExistsError(kv.Key, datastore.FormatRevision(e.rev))
	}
	return b.write(kv.Key, kv.Value, false), nil
}

// Update implements datastore.Backend.
func (b *Backend) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(kv.Key); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if kv.Revision == "" {
		return nil, datastore.RevisionRequiredError(kv.Key)
	}
	want, err := datastore.ParseRevision("revision", kv.Revision)
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", kv.Key, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	e, ok := b.items[kv.Key]
	if !ok {
		return nil, datastore.NotFoundError("update", kv.Key)
	}
	if e.rev != want {
		return nil, datastore.ConflictError("update", kv.Key, kv.Revision, datastore.FormatRevision(e.rev))
	}
	return b.write(kv.Key, kv.Value, false), nil
}

// Delete implements datastore.Backend.
func (b *Backend) Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	var want int64
	if revision != "" {
		var err error
		if want, err = datastore.ParseRevision("revision", revision); err != nil {
			return nil, fmt.Errorf("delete %s: %w", key, err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	e, ok := b.items[key]
	if !ok {
		return nil, datastore.NotFoundError("delete", key)
	}
	if revision != "" && e.rev != want {
		return nil, datastore.ConflictError("delete", key, revision, datastore.FormatRevision(e.rev))
	}
	prev := e.pair(key)
	b.write(key, nil, true)
	return prev, nil
}

// write applies one change at the next revision, records it in the history
// and hands it to matching watchers. Caller holds b.mu.
func (b *Backend) write(key datastore.Key, value []byte, del bool) *datastore.KVPair {
	b.rev++
	before := b.items[key]
	var after *entry
	if del {
		delete(b.items, key)
	} else {
		after = &entry{value: bytes.Clone(value), rev: b.rev}
		if after.value == nil {
			after.value = []byte{}
		}
		b.items[key] = after
	}
	c := change{rev: b.rev, key: key, before: before, after: after}
	b.history = append(b.history, c)
	if len(b.history) > b.limit {
		drop := len(b.history) - b.limit
		b.oldest = b.history[drop-1].rev
		b.history = append(b.history[:0:0], b.history[drop:]...)
	}
	for w := range b.watchers {
		if w.opts.Matches(key) && c.rev > w.from {
			w.enqueue(c.event())
		}
	}
	if after == nil {
		return nil
	}
	return after.pair(key)
}

// Compact discards history up to and including rev, as etcd's compaction
// does: afterwards List at an older revision and Watch from an older
// revision fail with ErrCompacted. For tests.
func (b *Backend) Compact(rev string) error {
	n, err := datastore.ParseRevision("compact revision", rev)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.rev {
		return fmt.Errorf("compact at revision %s: that revision is in the future (current %d)", rev, b.rev)
	}
	if n <= b.oldest {
		return nil
	}
	b.oldest = n
	i := sort.Search(len(b.history), func(i int) bool { return b.history[i].rev > n })
	b.history = append(b.history[:0:0], b.history[i:]...)
	return nil
}

// Close stops every watcher; the backend rejects calls afterwards.
func (b *Backend) Close() error {
	b.mu.Lock()
	ws := b.watchers
	b.watchers = map[*watcher]struct{}{}
	b.closed = true
	b.mu.Unlock()
	for w := range ws {
		w.Stop()
	}
	return nil
}

// pair copies the entry out as a KVPair.
func (e *entry) pair(key datastore.Key) *datastore.KVPair {
	return &datastore.KVPair{Key: key, Value: bytes.Clone(e.value), Revision: datastore.FormatRevision(e.rev)}
}

// event renders a history record as a watch event.
func (c change) event() datastore.WatchEvent {
	ev := datastore.WatchEvent{Revision: datastore.FormatRevision(c.rev)}
	if c.before != nil {
		ev.Previous = c.before.pair(c.key)
	}
	switch {
	case c.after == nil:
		ev.Type = datastore.EventDeleted
	case c.before == nil:
		ev.Type = datastore.EventAdded
		ev.New = c.after.pair(c.key)
	default:
		ev.Type = datastore.EventModified
		ev.New = c.after.pair(c.key)
	}
	return ev
}
