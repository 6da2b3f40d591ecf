package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// watcher adapts one etcd watch channel to datastore.Watcher.
type watcher struct {
	out    chan datastore.WatchEvent
	cancel context.CancelFunc
	once   sync.Once
}

// Watch implements datastore.Backend. An empty fromRevision is resolved to
// the current revision before the watch starts, so every change committed
// after Watch returns is delivered. The etcd client re-establishes the
// stream by itself across connection loss and server restarts, resuming
// after the last delivered revision.
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
	} else {
		resp, err := b.client.Get(ctx, KeyRoot, clientv3.WithCountOnly())
		if err != nil {
			return nil, b.wrap("watch "+opts.Kind+": read current revision", err)
		}
		from = resp.Header.Revision
	}
	wctx, cancel := context.WithCancel(ctx)
	prefix := listPrefix(opts)
	wch := b.client.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(from+1), clientv3.WithPrevKV())
	w := &watcher{out: make(chan datastore.WatchEvent), cancel: cancel}
	go w.run(wctx, wch, opts, from)
	return w, nil
}

// Events implements datastore.Watcher.
func (w *watcher) Events() <-chan datastore.WatchEvent { return w.out }

// Stop implements datastore.Watcher; cancelling the context ends the etcd
// watch and, through it, run.
func (w *watcher) Stop() { w.once.Do(w.cancel) }

// run translates etcd responses until the context ends or the watch fails.
func (w *watcher) run(ctx context.Context, wch clientv3.WatchChan, opts datastore.ListOptions, from int64) {
	defer close(w.out)
	defer w.Stop()
	for resp := range wch {
		if err := resp.Err(); err != nil {
			if ctx.Err() != nil {
				return // our own cancellation, not a failure
			}
			w.send(ctx, datastore.WatchEvent{Type: datastore.EventError, Err: watchError(opts, from, resp, err)})
			return
		}
		for _, ev := range resp.Events {
			key, ok := parseKey(opts.Kind, ev.Kv.Key)
			if !ok || !opts.Matches(key) {
				continue
			}
			if !w.send(ctx, toEvent(key, ev)) {
				return
			}
		}
	}
}

// send delivers ev unless the watch is stopped first.
func (w *watcher) send(ctx context.Context, ev datastore.WatchEvent) bool {
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchError explains why etcd ended a watch, wrapping ErrCompacted when the
// requested history is gone.
func watchError(opts datastore.ListOptions, from int64, resp clientv3.WatchResponse, err error) error {
	if resp.CompactRevision != 0 || errors.Is(err, rpctypes.ErrCompacted) {
		oldest := ""
		if resp.CompactRevision != 0 {
			oldest = datastore.FormatRevision(resp.CompactRevision)
		}
		return datastore.CompactedError("watch "+opts.Kind, datastore.FormatRevision(from), oldest)
	}
	return fmt.Errorf("watch %s from revision %d: etcd ended the watch: %w", opts.Kind, from, err)
}

// toEvent maps one etcd event to a WatchEvent.
func toEvent(key datastore.Key, ev *clientv3.Event) datastore.WatchEvent {
	out := datastore.WatchEvent{Revision: datastore.FormatRevision(ev.Kv.ModRevision)}
	if ev.PrevKv != nil {
		out.Previous = toPair(key, ev.PrevKv)
	}
	switch {
	case ev.Type == clientv3.EventTypeDelete:
		out.Type = datastore.EventDeleted
		if out.Previous == nil {
			// History before the delete was compacted: the key is all we know.
			out.Previous = &datastore.KVPair{Key: key}
		}
	case ev.IsCreate():
		out.Type = datastore.EventAdded
		out.New = toPair(key, ev.Kv)
	default:
		out.Type = datastore.EventModified
		out.New = toPair(key, ev.Kv)
	}
	return out
}
