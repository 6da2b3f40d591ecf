package client

import (
	"context"
	"fmt"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Event is one decoded change.
type Event struct {
	Type datastore.EventType
	// Object is the resource after the change (nil for deletions and errors).
	Object v3.Resource
	// Previous is the resource before the change, when known.
	Previous v3.Resource
	// Revision is the datastore revision of the change.
	Revision string
	// Err is set for datastore.EventError (and for values that fail to decode).
	Err error
}

// Watcher streams decoded events until stopped.
type Watcher struct {
	inner datastore.Watcher
	out   chan Event
}

// Events delivers changes in revision order; closed when the watch ends.
func (w *Watcher) Events() <-chan Event { return w.out }

// Stop ends the watch. Safe to call twice.
func (w *Watcher) Stop() { w.inner.Stop() }

// Watch streams changes to one kind (in one namespace, or all when
// namespace is empty) strictly after fromRevision ("" means from now).
// Use the revision returned by List to watch without gaps.
func (c *Client) Watch(ctx context.Context, kind, namespace, fromRevision string) (*Watcher, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return nil, err
	}
	inner, err := c.be.Watch(ctx, datastore.ListOptions{Kind: info.Kind, Namespace: namespace}, fromRevision)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", info.Plural, err)
	}
	w := &Watcher{inner: inner, out: make(chan Event)}
	go w.run(ctx)
	return w, nil
}

// run decodes backend events until the backend channel closes.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.out)
	for ev := range w.inner.Events() {
		out := Event{Type: ev.Type, Revision: ev.Revision, Err: ev.Err}
		if ev.New != nil {
			if r, err := decode(ev.New); err != nil {
				out.Type, out.Err = datastore.EventError, err
			} else {
				out.Object = r
			}
		}
		if ev.Previous != nil {
			if r, err := decode(ev.Previous); err == nil {
				out.Previous = r
			}
		}
		select {
		case w.out <- out:
		case <-ctx.Done():
			w.inner.Stop()
			return
		}
	}
}
