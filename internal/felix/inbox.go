package felix

import (
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// inbox carries syncer callbacks to the loop goroutine. The syncer never
// blocks on a slow dataplane: updates pile up under the mutex and one
// buffered wake-up tells the loop to drain everything at once (coalescing).
type inbox struct {
	mu      sync.Mutex
	updates []datastore.Update
	status  datastore.SyncStatus // latest; 0 = none since the last drain
	wake    chan struct{}
}

var _ datastore.SyncerCallbacks = (*inbox)(nil)

func newInbox() *inbox { return &inbox{wake: make(chan struct{}, 1)} }

// OnStatusUpdated implements datastore.SyncerCallbacks.
func (b *inbox) OnStatusUpdated(status datastore.SyncStatus) {
	b.mu.Lock()
	b.status = status
	b.mu.Unlock()
	b.notify()
}

// OnUpdates implements datastore.SyncerCallbacks.
func (b *inbox) OnUpdates(updates []datastore.Update) {
	b.mu.Lock()
	b.updates = append(b.updates, updates...)
	b.mu.Unlock()
	b.notify()
}

func (b *inbox) notify() {
	select {
	case b.wake <- struct{}{}:
	default: // a wake-up is already pending; it will see these too
	}
}

// drain takes everything received so far. The syncer reports a status
// after the updates it covers, so applying the updates first and then the
// latest status is the order they happened in.
func (b *inbox) drain() ([]datastore.Update, datastore.SyncStatus) {
	b.mu.Lock()
	defer b.mu.Unlock()
	us, st := b.updates, b.status
	b.updates, b.status = nil, 0
	return us, st
}
