package datastore

import (
	"context"
	"errors"
	"time"
)

// kindSyncer keeps one kind in sync: list, watch from the list's revision,
// and on failure either re-watch from the last revision seen or, when that
// history is gone, re-list and send the difference.
//
//	list ──► diff against known ──► out (listed)
//	  ▲                                │
//	  │ compacted / watch refused      ▼
//	  └──────────────────────────── watch from rev ──► out (deltas)
//	                                   │ broken: back off, re-watch from last rev
type kindSyncer struct {
	s    *Syncer
	idx  int
	opts ListOptions
	out  chan<- syncMsg
	// known maps every key the consumer holds to the revision it was sent at.
	known   map[Key]string
	backoff time.Duration
}

func (k *kindSyncer) run(ctx context.Context) {
	log := k.s.Log.With("kind", k.opts.Kind)
	needList := true
	var rev string
	for ctx.Err() == nil {
		if needList {
			list, err := k.s.backend.List(ctx, ListOptions{Kind: k.opts.Kind, Namespace: k.opts.Namespace, NamePrefix: k.opts.NamePrefix})
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Warn("datastore syncer: list failed; will retry", "err", err, "retryIn", k.nextBackoff())
				k.sleep(ctx)
				continue
			}
			if !k.send(ctx, syncMsg{kind: k.idx, updates: k.diff(list), listed: true}) {
				return
			}
			rev, needList = list.Revision, false
		}
		w, err := k.s.backend.Watch(ctx, k.opts, rev)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("datastore syncer: watch failed; will re-list", "fromRevision", rev, "err", err, "retryIn", k.nextBackoff())
			k.sleep(ctx)
			needList = true
			continue
		}
		rev, needList = k.consume(ctx, w, rev)
		w.Stop()
		if ctx.Err() != nil {
			return
		}
		if needList {
			log.Info("datastore syncer: watch history compacted; re-listing", "fromRevision", rev)
			k.backoff = 0
			continue
		}
		log.Warn("datastore syncer: watch ended; resuming", "fromRevision", rev, "retryIn", k.nextBackoff())
		k.sleep(ctx)
	}
}

// consume forwards watch events until the watch ends. It returns the last
// revision delivered and whether the kind must be re-listed.
func (k *kindSyncer) consume(ctx context.Context, w Watcher, rev string) (string, bool) {
	log := k.s.Log.With("kind", k.opts.Kind)
	for {
		var ev WatchEvent
		var ok bool
		select {
		case <-ctx.Done():
			return rev, false
		case ev, ok = <-w.Events():
		}
		if !ok {
			return rev, false
		}
		if ev.Type == EventError {
			if errors.Is(ev.Err, ErrCompacted) {
				return rev, true
			}
			log.Warn("datastore syncer: watch error", "err", ev.Err)
			return rev, false
		}
		k.backoff = 0
		rev = ev.Revision
		if u, ok := k.apply(ev); ok {
			if !k.send(ctx, syncMsg{kind: k.idx, updates: []Update{u}}) {
				return rev, false
			}
		}
	}
}

// apply records a watch event in known and returns the update it means to
// the consumer (none for a duplicate or for deleting an unknown key).
func (k *kindSyncer) apply(ev WatchEvent) (Update, bool) {
	switch ev.Type {
	case EventDeleted:
		if ev.Previous == nil {
			return Update{}, false
		}
		key := ev.Previous.Key
		if _, had := k.known[key]; !had {
			return Update{}, false
		}
		delete(k.known, key)
		return Update{KVPair: KVPair{Key: key, Revision: ev.Revision}, UpdateType: UpdateTypeDeleted}, true
	case EventAdded, EventModified:
		if ev.New == nil {
			return Update{}, false
		}
		key := ev.New.Key
		old, had := k.known[key]
		if had && old == ev.New.Revision {
			return Update{}, false
		}
		k.known[key] = ev.New.Revision
		t := UpdateTypeNew
		if had {
			t = UpdateTypeUpdated
		}
		return Update{KVPair: *ev.New, UpdateType: t}, true
	}
	return Update{}, false
}

// diff replaces known with a fresh list and returns what changed: new and
// changed keys in list order, then deletions for keys that vanished.
func (k *kindSyncer) diff(list *KVList) []Update {
	updates := make([]Update, 0, len(list.Items))
	seen := make(map[Key]string, len(list.Items))
	for _, kv := range list.Items {
		seen[kv.Key] = kv.Revision
		old, had := k.known[kv.Key]
		switch {
		case !had:
			updates = append(updates, Update{KVPair: kv, UpdateType: UpdateTypeNew})
		case old != kv.Revision:
			updates = append(updates, Update{KVPair: kv, UpdateType: UpdateTypeUpdated})
		}
	}
	var gone []Key
	for key := range k.known {
		if _, ok := seen[key]; !ok {
			gone = append(gone, key)
		}
	}
	deleted := make([]KVPair, 0, len(gone))
	for _, key := range gone {
		deleted = append(deleted, KVPair{Key: key, Revision: list.Revision})
	}
	SortKVs(deleted)
	for _, kv := range deleted {
		updates = append(updates, Update{KVPair: kv, UpdateType: UpdateTypeDeleted})
	}
	k.known = seen
	return updates
}

// send hands a message to the Run loop unless ctx ends first.
func (k *kindSyncer) send(ctx context.Context, m syncMsg) bool {
	select {
	case k.out <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// nextBackoff doubles the retry delay within [MinBackoff, MaxBackoff] and
// returns the delay the next sleep will use.
func (k *kindSyncer) nextBackoff() time.Duration {
	switch {
	case k.backoff == 0:
		k.backoff = k.s.MinBackoff
	case k.backoff*2 > k.s.MaxBackoff:
		k.backoff = k.s.MaxBackoff
	default:
		k.backoff *= 2
	}
	return k.backoff
}

func (k *kindSyncer) sleep(ctx context.Context) {
	t := time.NewTimer(k.backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
