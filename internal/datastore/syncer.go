package datastore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SyncStatus is where a Syncer is in bringing its consumer up to date. The
// names and order are Calico's.
type SyncStatus int

const (
	// WaitForDatastore: nothing has been read yet (datastore unreachable or
	// the first list still running).
	WaitForDatastore SyncStatus = iota + 1
	// ResyncInProgress: the datastore answered; the snapshot is being sent.
	ResyncInProgress
	// InSync: every kind has been listed and sent; what follows are deltas.
	// Consumers may now remove state that the snapshot did not mention.
	InSync
)

// String names the status as Calico logs it.
func (s SyncStatus) String() string {
	switch s {
	case WaitForDatastore:
		return "wait-for-ready"
	case ResyncInProgress:
		return "resync"
	case InSync:
		return "in-sync"
	}
	return fmt.Sprintf("SyncStatus(%d)", int(s))
}

// UpdateType says how an Update changes the consumer's view.
type UpdateType int

const (
	// UpdateTypeNew: a key the consumer has not seen.
	UpdateTypeNew UpdateType = iota + 1
	// UpdateTypeUpdated: a new value for a key the consumer has.
	UpdateTypeUpdated
	// UpdateTypeDeleted: the key is gone; KVPair.Value is nil.
	UpdateTypeDeleted
)

// String names the update type.
func (t UpdateType) String() string {
	switch t {
	case UpdateTypeNew:
		return "new"
	case UpdateTypeUpdated:
		return "updated"
	case UpdateTypeDeleted:
		return "deleted"
	}
	return fmt.Sprintf("UpdateType(%d)", int(t))
}

// Update is one change as the syncer delivers it. For deletions Value is nil
// and Revision is the revision at which the deletion was observed.
type Update struct {
	KVPair
	UpdateType UpdateType
}

// SyncerCallbacks receives a Syncer's output. Both methods are called from
// the one goroutine running Syncer.Run, never concurrently, so consumers need
// no locking of their own for state touched only here.
type SyncerCallbacks interface {
	// OnStatusUpdated reports a status change.
	OnStatusUpdated(status SyncStatus)
	// OnUpdates delivers a batch of changes, in order per key.
	OnUpdates(updates []Update)
}

// Syncer turns List + Watch on several kinds into one stream for a consumer:
// the snapshot of every kind, then InSync, then deltas. When a watch breaks
// or its history is compacted the syncer re-lists that kind and sends only
// the difference from what the consumer already has, so no deleted key is
// ever left behind and nothing unchanged is sent twice.
//
// Set the optional fields before calling Run.
type Syncer struct {
	// Log receives retries and resyncs; slog.Default() when nil.
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the delay between retries after a
	// datastore error (defaults 100ms and 5s).
	MinBackoff, MaxBackoff time.Duration
	// MaxBatch caps how many updates one OnUpdates call carries during the
	// delta phase (default 1000); a snapshot list is always one call per kind.
	MaxBatch int

	backend Backend
	kinds   []ListOptions
	cb      SyncerCallbacks
	status  atomic.Int32
}

// NewSyncer returns a syncer over the given kinds (each a ListOptions with
// Revision empty). Nothing happens until Run.
func NewSyncer(backend Backend, kinds []ListOptions, cb SyncerCallbacks) *Syncer {
	return &Syncer{backend: backend, kinds: append([]ListOptions(nil), kinds...), cb: cb}
}

// Status is the last status reported to the callbacks (0 before Run).
func (s *Syncer) Status() SyncStatus { return SyncStatus(s.status.Load()) }

// syncMsg is what a per-kind worker tells the Run loop.
type syncMsg struct {
	kind    int
	updates []Update
	// listed marks the end of a complete list of the kind.
	listed bool
}

// Run syncs until ctx ends; it then stops every watch and returns.
func (s *Syncer) Run(ctx context.Context) {
	s.defaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan syncMsg, 64)
	var wg sync.WaitGroup
	for i, opts := range s.kinds {
		w := &kindSyncer{s: s, idx: i, opts: opts, out: msgs, known: map[Key]string{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	defer wg.Wait()
	s.setStatus(WaitForDatastore)

	listed := make([]bool, len(s.kinds))
	remaining := len(s.kinds)
	if remaining == 0 {
		s.setStatus(ResyncInProgress)
		s.setStatus(InSync)
	}
	var pending []Update
	flush := func() {
		if len(pending) > 0 {
			s.cb.OnUpdates(pending)
			pending = nil
		}
	}
	for {
		var m syncMsg
		select {
		case <-ctx.Done():
			return
		case m = <-msgs:
		}
		// Coalesce what is already queued into one callback.
	collect:
		for {
			if s.Status() == WaitForDatastore {
				s.setStatus(ResyncInProgress)
			}
			pending = append(pending, m.updates...)
			if m.listed && !listed[m.kind] {
				listed[m.kind] = true
				remaining--
				if remaining == 0 {
					flush()
					s.setStatus(InSync)
				}
			}
			if m.listed && s.Status() != InSync {
				// Snapshots go out one call per kind.
				flush()
			}
			if len(pending) >= s.MaxBatch {
				break collect
			}
			select {
			case m = <-msgs:
			default:
				break collect
			}
		}
		flush()
	}
}

func (s *Syncer) defaults() {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.MinBackoff <= 0 {
		s.MinBackoff = 100 * time.Millisecond
	}
	if s.MaxBackoff < s.MinBackoff {
		s.MaxBackoff = 5 * time.Second
		if s.MaxBackoff < s.MinBackoff {
			s.MaxBackoff = s.MinBackoff
		}
	}
	if s.MaxBatch <= 0 {
		s.MaxBatch = 1000
	}
}

func (s *Syncer) setStatus(st SyncStatus) {
	if s.Status() == st {
		return
	}
	s.status.Store(int32(st))
	s.Log.Info("datastore syncer status", "status", st.String())
	s.cb.OnStatusUpdated(st)
}
