package memory

import (
	"context"
	"fmt"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// maxQueued bounds how far a watcher may fall behind its consumer. Beyond it
// the watch fails with ErrCompacted, as an etcd watch on compacted history
// would, and the consumer re-lists; writers never block on a slow reader.
const maxQueued = 200000

// watcher delivers matching changes through an unbounded-up-to-maxQueued
// queue drained by its own goroutine.
type watcher struct {
	b      *Backend
	opts   datastore.ListOptions
	from   int64 // only changes after this revision are delivered
	out    chan datastore.WatchEvent
	notify chan struct{}
	stop   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	queue  []datastore.WatchEvent
	failed bool // an EventError is queued; nothing follows it
}

// Watch implements datastore.Backend. The history after fromRevision is
// queued under the same lock that registers the watcher, so no change falls
// between the replay and the live stream.
func (b *Backend) Watch(ctx context.Context, opts datastore.ListOptions, fromRevision string) (datastore.Watcher, error) {
	if err := datastore.ValidateListOptions(opts); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	var from int64
	if fromRevision != "" {
		var err error
		if from, err = datastore.ParseRevision("watch fromRevision", fromRevision); err != nil {
			return nil, fmt.Errorf("watch %s: %w", opts.Kind, err)
		}
	}
	w := &watcher{
		b:      b,
		opts:   opts,
		out:    make(chan datastore.WatchEvent),
		notify: make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed
	}
	if fromRevision == "" {
		from = b.rev
	}
	w.from = from
	if from < b.oldest {
		w.fail(datastore.CompactedError("watch "+opts.Kind, fromRevision, datastore.FormatRevision(b.oldest)))
	} else {
		for _, c := range b.history {
			if c.rev > from && opts.Matches(c.key) {
				w.enqueue(c.event())
			}
		}
		b.watchers[w] = struct{}{}
	}
	b.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

// Events implements datastore.Watcher.
func (w *watcher) Events() <-chan datastore.WatchEvent { return w.out }

// Stop implements datastore.Watcher.
func (w *watcher) Stop() {
	w.once.Do(func() { close(w.stop) })
}

// enqueue adds an event; called with b.mu held so order is revision order.
func (w *watcher) enqueue(ev datastore.WatchEvent) {
	w.mu.Lock()
	if w.failed {
		w.mu.Unlock()
		return
	}
	if len(w.queue) >= maxQueued {
		w.mu.Unlock()
		w.fail(fmt.Errorf("watch %s: consumer fell more than %d events behind: %w", w.opts.Kind, maxQueued, datastore.ErrCompacted))
		return
	}
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	w.wake()
}

// fail queues a terminal EventError.
func (w *watcher) fail(err error) {
	w.mu.Lock()
	if !w.failed {
		w.failed = true
		w.queue = append(w.queue, datastore.WatchEvent{Type: datastore.EventError, Err: err})
	}
	w.mu.Unlock()
	w.wake()
}

func (w *watcher) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// run drains the queue into out until stopped, the context ends or an
// EventError has been delivered, then unregisters and closes out.
func (w *watcher) run(ctx context.Context) {
	defer close(w.out)
	defer func() {
		w.b.mu.Lock()
		delete(w.b.watchers, w)
		w.b.mu.Unlock()
	}()
	for {
		w.mu.Lock()
		batch := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range batch {
			select {
			case w.out <- ev:
			case <-ctx.Done():
				return
			case <-w.stop:
				return
			}
			if ev.Type == datastore.EventError {
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-w.notify:
		case <-ctx.Done():
			return
		case <-w.stop:
			return
		}
	}
}
