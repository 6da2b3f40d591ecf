package k8s

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// compositeSource is one store behind a composite kind.
type compositeSource struct {
	store revisionedBackend
	// owns reports whether a key of the kind lives in this store. The
	// first source owning a key serves it.
	owns func(datastore.Key) bool
}

// revisionedBackend is a backend that can say where a watch from "now"
// starts, so a composite watch has a complete resume point from its start.
type revisionedBackend interface {
	datastore.Backend
	CurrentRevision(ctx context.Context, opts datastore.ListOptions) (string, error)
}

// composite serves one Calico kind from several stores, as Calico's
// Kubernetes datastore serves Profiles from Namespaces and ServiceAccounts
// (its "nsRev/saRev" revisions):
//
//   - Get and writes go to the first source that owns the key; a key no
//     source owns is NotFound, and writing it is refused with unowned.
//   - List merges every source's list (sorted by namespace then name); its
//     revision is the sources' list revisions joined with "/" in source
//     order, e.g. "1043/1051".
//   - Watch from such a revision watches each source from its part; every
//     event carries the composite revision after it, so resuming from the
//     last event's revision loses and repeats nothing. A plain revision
//     (no "/") applies to every source: all of them are resourceVersions of
//     the one etcd behind the API server.
//
// Items keep their own object's resourceVersion as revision, so
// compare-and-swap on one item needs no composite.
type composite struct {
	kind    string
	sources []compositeSource
	// unowned explains why a key no source owns cannot be written.
	unowned string
}

var _ datastore.Backend = (*composite)(nil)

// owner returns the source that stores key, or nil.
func (c *composite) owner(key datastore.Key) datastore.Backend {
	for _, s := range c.sources {
		if s.owns(key) {
			return s.store
		}
	}
	return nil
}

func (c *composite) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, err
	}
	b := c.owner(key)
	if b == nil {
		return nil, datastore.NotFoundError("get", key)
	}
	return b.Get(ctx, key)
}

func (c *composite) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	b := c.owner(kv.Key)
	if b == nil {
		return nil, unownedError("create", kv.Key, c.unowned)
	}
	return b.Create(ctx, kv)
}

func (c *composite) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	b := c.owner(kv.Key)
	if b == nil {
		return nil, unownedError("update", kv.Key, c.unowned)
	}
	return b.Update(ctx, kv)
}

func (c *composite) Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error) {
	b := c.owner(key)
	if b == nil {
		return nil, unownedError("delete", key, c.unowned)
	}
	return b.Delete(ctx, key, revision)
}

// splitRevision maps a composite revision onto the sources.
func (c *composite) splitRevision(rev string) ([]string, error) {
	parts := make([]string, len(c.sources))
	if rev == "" {
		return parts, nil
	}
	if !strings.Contains(rev, "/") {
		for i := range parts {
			parts[i] = rev
		}
		return parts, nil
	}
	split := strings.Split(rev, "/")
	if len(split) != len(c.sources) {
		return nil, fmt.Errorf("%s revision %q: want %d revisions joined with \"/\" (one per source); use a revision returned by a %s list or watch", c.kind, rev, len(c.sources), c.kind)
	}
	return split, nil
}

func (c *composite) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	revs, err := c.splitRevision(opts.Revision)
	if err != nil {
		return nil, err
	}
	out := &datastore.KVList{Items: []datastore.KVPair{}}
	got := make([]string, len(c.sources))
	for i, s := range c.sources {
		o := opts
		o.Revision = revs[i]
		l, err := s.store.List(ctx, o)
		if err != nil {
			return nil, err
		}
		got[i] = l.Revision
		out.Items = append(out.Items, l.Items...)
	}
	datastore.SortKVs(out.Items)
	out.Revision = strings.Join(got, "/")
	return out, nil
}

func (c *composite) Watch(ctx context.Context, opts datastore.ListOptions, fromRevision string) (datastore.Watcher, error) {
	revs, err := c.splitRevision(fromRevision)
	if err != nil {
		return nil, err
	}
	for i, s := range c.sources {
		if revs[i] == "" {
			if revs[i], err = s.store.CurrentRevision(ctx, opts); err != nil {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &compositeWatcher{out: make(chan datastore.WatchEvent, 100), stop: make(chan struct{}), cancel: cancel, revs: revs}
	ws := make([]datastore.Watcher, len(c.sources))
	for i, s := range c.sources {
		if ws[i], err = s.store.Watch(ctx, opts, revs[i]); err != nil {
			cancel()
			for _, started := range ws[:i] {
				started.Stop()
			}
			return nil, err
		}
	}
	var wg sync.WaitGroup
	for i, sw := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sw.Stop()
			w.forward(ctx, i, sw)
		}()
	}
	go func() {
		wg.Wait()
		close(w.out)
	}()
	return w, nil
}

// Close releases nothing; the sources are closed by their owner.
func (c *composite) Close() error { return nil }

// compositeWatcher merges the sources' watches.
type compositeWatcher struct {
	out      chan datastore.WatchEvent
	stop     chan struct{}
	stopOnce sync.Once
	cancel   context.CancelFunc

	mu   sync.Mutex // serialises emits, so composite revisions only move forward
	revs []string
	done bool // an error was delivered; nothing follows it
}

func (w *compositeWatcher) Events() <-chan datastore.WatchEvent { return w.out }

func (w *compositeWatcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.stop)
		w.cancel()
	})
}

// forward relays source i's events with composite revisions. The first
// error of any source is delivered and ends the whole watch.
func (w *compositeWatcher) forward(ctx context.Context, i int, sw datastore.Watcher) {
	for {
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		case ev, ok := <-sw.Events():
			if !ok {
				return
			}
			if !w.emit(ctx, i, ev) {
				return
			}
		}
	}
}

// emit delivers ev with the composite revision; false ends forwarding.
func (w *compositeWatcher) emit(ctx context.Context, i int, ev datastore.WatchEvent) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	if ev.Type != datastore.EventError && ev.Revision != "" {
		w.revs[i] = ev.Revision
	}
	ev.Revision = strings.Join(w.revs, "/")
	select {
	case w.out <- ev:
	case <-w.stop:
		return false
	case <-ctx.Done():
		return false
	}
	if ev.Type == datastore.EventError {
		w.done = true
		w.cancel()
		return false
	}
	return true
}
