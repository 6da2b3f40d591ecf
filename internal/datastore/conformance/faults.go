package conformance

import (
	"context"
	"errors"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// errInjected is the failure faultyBackend puts into broken watches.
var errInjected = errors.New("injected watch failure (conformance test)")

// faultyBackend wraps a backend so a test can break every running watch and
// hold new ones back, the way a network partition would, while writes go on.
type faultyBackend struct {
	datastore.Backend

	mu       sync.Mutex
	watchers map[*faultyWatcher]struct{}
	held     chan struct{} // non-nil while new watches wait
	watches  int           // Watch calls so far
}

func newFaultyBackend(b datastore.Backend) *faultyBackend {
	return &faultyBackend{Backend: b, watchers: map[*faultyWatcher]struct{}{}}
}

// breakAndHold fails every running watch and makes new Watch calls wait
// until release.
func (f *faultyBackend) breakAndHold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held == nil {
		f.held = make(chan struct{})
	}
	for w := range f.watchers {
		w.fail()
	}
	f.watchers = map[*faultyWatcher]struct{}{}
}

// release lets held Watch calls proceed.
func (f *faultyBackend) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held != nil {
		close(f.held)
		f.held = nil
	}
}

// Watches returns how many Watch calls were made.
func (f *faultyBackend) Watches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watches
}

// Watch waits while watches are held, then wraps the real watcher.
func (f *faultyBackend) Watch(ctx context.Context, opts datastore.ListOptions, from string) (datastore.Watcher, error) {
	f.mu.Lock()
	f.watches++
	held := f.held
	f.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	inner, err := f.Backend.Watch(ctx, opts, from)
	if err != nil {
		return nil, err
	}
	w := &faultyWatcher{inner: inner, out: make(chan datastore.WatchEvent), broken: make(chan struct{})}
	f.mu.Lock()
	f.watchers[w] = struct{}{}
	f.mu.Unlock()
	go w.run()
	return w, nil
}

// faultyWatcher forwards a real watcher's events until failed.
type faultyWatcher struct {
	inner     datastore.Watcher
	out       chan datastore.WatchEvent
	broken    chan struct{}
	breakOnce sync.Once
}

func (w *faultyWatcher) Events() <-chan datastore.WatchEvent { return w.out }

func (w *faultyWatcher) Stop() {
	w.fail()
}

func (w *faultyWatcher) fail() {
	w.breakOnce.Do(func() { close(w.broken) })
}

func (w *faultyWatcher) run() {
	defer close(w.out)
	defer w.inner.Stop()
	for {
		select {
		case <-w.broken:
			// Deliver the failure unless nobody is listening any more.
			select {
			case w.out <- datastore.WatchEvent{Type: datastore.EventError, Err: errInjected}:
			default:
			}
			return
		case ev, ok := <-w.inner.Events():
			if !ok {
				return
			}
			select {
			case w.out <- ev:
			case <-w.broken:
				return
			}
		}
	}
}
