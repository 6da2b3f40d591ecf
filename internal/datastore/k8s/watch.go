package k8s

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Resume policy when the API server ends a watch stream (its request
// timeout, a restart, a broken connection): re-watch from the last revision
// seen, backing off, for at most resumeTimeout before reporting an error.
const (
	resumeMinBackoff = 100 * time.Millisecond
	resumeMaxBackoff = 2 * time.Second
	resumeTimeout    = 60 * time.Second
)

// Watch streams changes after fromRevision ("" = from now) to the kind,
// namespace and name prefix opts selects. Bookmarks are requested and only
// advance the resume point.
func (b *Backend) Watch(ctx context.Context, opts datastore.ListOptions, fromRevision string) (datastore.Watcher, error) {
	res, k, err := b.listResource(opts)
	if err != nil {
		return nil, err
	}
	return startWatch(ctx, res, k, opts, fromRevision, crConverter(k.kind))
}

// startWatch opens the first stream (so bad requests fail the call) and
// forwards converted events from a goroutine.
func startWatch(ctx context.Context, res dynamic.ResourceInterface, k kindInfo, opts datastore.ListOptions, fromRevision string, convert convertFunc) (datastore.Watcher, error) {
	what := opts.Kind
	if opts.Namespace != "" {
		what += " in namespace " + opts.Namespace
	}
	if fromRevision == "" {
		// A watch without resourceVersion would replay every object as
		// "added"; "now" is the revision of a (one-item) list instead.
		rev, err := currentRevision(ctx, res, k, opts)
		if err != nil {
			return nil, err
		}
		fromRevision = rev
	}
	wi, err := openWatch(ctx, res, fromRevision)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("%w (%v)", datastore.CompactedError("watch "+what, fromRevision, ""), err)
		}
		if isUnserved(err) {
			return nil, unservedError("watch", k, what, err)
		}
		return nil, fmt.Errorf("watch %s from revision %s: %w", what, fromRevision, err)
	}
	w := &watcher{
		out:     make(chan datastore.WatchEvent, 100),
		stop:    make(chan struct{}),
		res:     res,
		convert: convert,
		kind:    k.kind,
		what:    what,
		opts:    opts,
		last:    fromRevision,
	}
	if k.derived {
		w.sent = map[datastore.Key]uint64{}
	}
	go w.run(ctx, wi)
	return w, nil
}

// currentRevision is the resourceVersion of a one-item list of res: the
// revision "now" for a watch.
func currentRevision(ctx context.Context, res dynamic.ResourceInterface, k kindInfo, opts datastore.ListOptions) (string, error) {
	l, err := res.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return "", listError(k, opts, err)
	}
	return l.GetResourceVersion(), nil
}

// CurrentRevision is the revision a Watch from "" would start at for opts.
func (b *Backend) CurrentRevision(ctx context.Context, opts datastore.ListOptions) (string, error) {
	res, k, err := b.listResource(opts)
	if err != nil {
		return "", err
	}
	return currentRevision(ctx, res, k, opts)
}

// CurrentRevision is the revision a Watch from "" would start at for opts.
func (v *View) CurrentRevision(ctx context.Context, opts datastore.ListOptions) (string, error) {
	res, err := v.listResource(opts)
	if err != nil {
		return "", err
	}
	return currentRevision(ctx, res, v.info(), opts)
}

// openWatch starts one watch stream after revision.
func openWatch(ctx context.Context, res dynamic.ResourceInterface, revision string) (watch.Interface, error) {
	return res.Watch(ctx, metav1.ListOptions{ResourceVersion: revision, AllowWatchBookmarks: true})
}

// watcher turns API watch streams into datastore events, resuming across
// stream ends.
type watcher struct {
	out      chan datastore.WatchEvent
	stop     chan struct{}
	stopOnce sync.Once

	res     dynamic.ResourceInterface
	convert convertFunc
	kind    string
	what    string
	opts    datastore.ListOptions
	last    string // revision of the last event or bookmark seen
	// sent holds a hash of the last value delivered per key, for views
	// (kindInfo.derived): a modification converting to the same value is
	// not delivered. Nil for custom resources.
	sent map[datastore.Key]uint64
}

// unchanged reports whether kv's value is the one last delivered for its
// key, and records it otherwise (deleted keys are forgotten).
func (w *watcher) unchanged(typ watch.EventType, kv *datastore.KVPair) bool {
	if w.sent == nil {
		return false
	}
	if typ == watch.Deleted {
		delete(w.sent, kv.Key)
		return false
	}
	h := fnv.New64a()
	h.Write(kv.Value)
	sum := h.Sum64()
	if prev, ok := w.sent[kv.Key]; ok && prev == sum && typ == watch.Modified {
		return true
	}
	w.sent[kv.Key] = sum
	return false
}

// Events delivers changes in revision order.
func (w *watcher) Events() <-chan datastore.WatchEvent { return w.out }

// Stop ends the watch; safe to call twice.
func (w *watcher) Stop() { w.stopOnce.Do(func() { close(w.stop) }) }

// run forwards events until Stop, the context ends or the watch fails.
func (w *watcher) run(ctx context.Context, wi watch.Interface) {
	defer close(w.out)
	for {
		failed := w.forward(ctx, wi)
		wi.Stop()
		if failed || w.stopped(ctx) {
			return
		}
		var err error
		if wi, err = w.resume(ctx); err != nil {
			if !w.stopped(ctx) {
				w.emit(ctx, datastore.WatchEvent{Type: datastore.EventError, Revision: w.last, Err: err})
			}
			return
		}
	}
}

// forward delivers one stream's events. It returns true when the watch
// ended with an error event (already delivered) and must not resume.
func (w *watcher) forward(ctx context.Context, wi watch.Interface) (failed bool) {
	for {
		select {
		case <-w.stop:
			return false
		case <-ctx.Done():
			return false
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return false
			}
			switch ev.Type {
			case watch.Bookmark:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok && u.GetResourceVersion() != "" {
					w.last = u.GetResourceVersion()
				}
			case watch.Error:
				err := apierrors.FromObject(ev.Object)
				if isGone(err) {
					w.emit(ctx, datastore.WatchEvent{Type: datastore.EventError, Revision: w.last,
						Err: fmt.Errorf("%w (%v)", datastore.CompactedError("watch "+w.what, w.last, ""), err)})
					return true
				}
				// Anything else (etcd unavailable, timeouts) is resumed.
				slog.Debug("kubernetes watch error event, resuming", "kind", w.kind, "revision", w.last, "error", err)
				return false
			case watch.Added, watch.Modified, watch.Deleted:
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok {
					continue
				}
				if rv := u.GetResourceVersion(); rv != "" {
					w.last = rv
				}
				kv, ok, err := w.convert(u)
				if err != nil {
					w.emit(ctx, datastore.WatchEvent{Type: datastore.EventError, Revision: w.last, Err: err})
					return true
				}
				if !ok || !w.opts.Matches(kv.Key) || w.unchanged(ev.Type, kv) {
					continue
				}
				out := datastore.WatchEvent{Revision: kv.Revision}
				switch ev.Type {
				case watch.Added:
					out.Type, out.New = datastore.EventAdded, kv
				case watch.Modified:
					out.Type, out.New = datastore.EventModified, kv
				default:
					out.Type, out.Previous = datastore.EventDeleted, kv
				}
				if !w.emit(ctx, out) {
					return false
				}
			}
		}
	}
}

// resume re-opens the stream after the last revision seen, with backoff,
// until resumeTimeout. A 410 means history is gone: ErrCompacted.
func (w *watcher) resume(ctx context.Context) (watch.Interface, error) {
	deadline := time.Now().Add(resumeTimeout)
	backoff := resumeMinBackoff
	for {
		wi, err := openWatch(ctx, w.res, w.last)
		if err == nil {
			return wi, nil
		}
		if isGone(err) {
			return nil, fmt.Errorf("%w (%v)", datastore.CompactedError("watch "+w.what, w.last, ""), err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("watch %s: could not resume from revision %s for %s: %w", w.what, w.last, resumeTimeout, err)
		}
		slog.Debug("kubernetes watch resume failed, retrying", "kind", w.kind, "revision", w.last, "error", err)
		select {
		case <-w.stop:
			return nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, resumeMaxBackoff)
	}
}

// emit delivers ev unless the watch is stopped first.
func (w *watcher) emit(ctx context.Context, ev datastore.WatchEvent) bool {
	select {
	case w.out <- ev:
		return true
	case <-w.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// stopped reports whether Stop was called or the context ended.
func (w *watcher) stopped(ctx context.Context) bool {
	select {
	case <-w.stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}
