package ipam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Store is the part of a datastore.Backend IPAM uses: keyed reads, lists
// and compare-and-swap writes. Every datastore.Backend satisfies it.
type Store interface {
	Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error)
	List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error)
	Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error)
	Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error)
	Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error)
}

var _ Store = datastore.Backend(nil)

// Use is what an address is for; pools list the uses they allow.
type Use string

// Uses of an address (IPPool spec.allowedUses).
const (
	UseWorkload Use = "Workload"
	UseTunnel   Use = "Tunnel"
)

// FaultPoint names a moment inside an operation where a test may simulate
// the client dying (Options.Fault).
type FaultPoint string

// Fault points, in the order an allocation passes them.
const (
	// FaultAfterPendingAffinity: the pending BlockAffinity is written, the
	// block is not yet created.
	FaultAfterPendingAffinity FaultPoint = "after-pending-affinity"
	// FaultAfterBlockClaim: the block is created and its affinity
	// confirmed; nothing is allocated yet.
	FaultAfterBlockClaim FaultPoint = "after-block-claim"
	// FaultAfterHandleWrite: the handle counts the allocation, the block
	// does not hold it yet.
	FaultAfterHandleWrite FaultPoint = "after-handle-write"
	// FaultAfterBlockWrite: the allocation is stored; the caller has not
	// been told its address.
	FaultAfterBlockWrite FaultPoint = "after-block-write"
)

// ErrKilled is what a Fault hook returns to simulate the client dying:
// IPAM stops at once, without rolling anything back.
var ErrKilled = errors.New("ipam client killed (injected fault)")

// Options configures an IPAM.
type Options struct {
	// Logger receives retry and repair logs (default slog.Default()).
	Logger *slog.Logger
	// Retries bounds every compare-and-swap loop (default 100).
	Retries int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// EmptyBlockReclaimAge is how long a block must have been claimed
	// before another node may take it over when it is empty and no
	// unclaimed block is left (default 1 minute, as Calico).
	EmptyBlockReclaimAge time.Duration
	// Fault, when set, is called at each FaultPoint; a non-nil error is
	// returned from the operation immediately, leaving the datastore as a
	// crashed client would. Tests only.
	Fault func(FaultPoint) error
	// DisableCache makes every request read pools, reservations, the IPAM
	// configuration, node labels and affinities afresh and forget the
	// block it last wrote (the behaviour of a store without Fingerprints).
	// For benchmarks and debugging; the cache never changes results.
	DisableCache bool
}

// IPAM allocates addresses from the datastore. The datastore is the only
// authority: what an IPAM remembers between calls (its cache) is checked
// against the datastore before use or guarded by a compare-and-swap, so any
// number of IPAMs on any number of hosts may work on one datastore at once.
// An IPAM is safe for concurrent use.
type IPAM struct {
	st    Store
	log   *slog.Logger
	tries int
	now   func() time.Time
	age   time.Duration
	fault func(FaultPoint) error
	cache *cache // nil when disabled
}

// New returns an IPAM over the given store (normally a datastore.Backend).
func New(st Store, opts Options) *IPAM {
	m := &IPAM{st: st, log: opts.Logger, tries: opts.Retries, now: opts.Now, age: opts.EmptyBlockReclaimAge, fault: opts.Fault}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.tries <= 0 {
		m.tries = 100
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.age == 0 {
		m.age = time.Minute
	}
	if !opts.DisableCache {
		m.cache = &cache{}
	}
	return m
}

// injected calls the fault hook.
func (m *IPAM) injected(p FaultPoint) error {
	if m.fault == nil {
		return nil
	}
	if err := m.fault(p); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// retry runs fn until it succeeds, fails with something other than a CAS
// conflict or lost race, or m.tries attempts have been made. Conflicts back
// off with jitter so contending writers spread out instead of colliding
// again in lock step.
func (m *IPAM) retry(ctx context.Context, what string, fn func() error) error {
	var err error
	for i := 0; i < m.tries; i++ {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		}
		if i > 0 && i%10 == 0 {
			m.log.Info("ipam: still retrying after concurrent modifications", "op", what, "attempt", i+1, "err", err)
		} else {
			m.log.Debug("ipam: retrying after concurrent modification", "op", what, "attempt", i+1, "err", err)
		}
		if i >= 2 {
			d := time.Duration(rand.Int64N(int64(time.Millisecond) * int64(min(i, 20))))
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
	}
	m.log.Warn("ipam: giving up after repeated concurrent modifications", "op", what, "attempts", m.tries, "err", err)
	return fmt.Errorf("%s: %w after %d attempts: %v", what, errRetriesExhausted, m.tries, err)
}

// retryable reports whether err is a lost race worth retrying.
func retryable(err error) bool {
	return errors.Is(err, datastore.ErrConflict) || errors.Is(err, datastore.ErrAlreadyExists) ||
		errors.Is(err, errBlockClaimConflict) || errors.Is(err, errStaleRead)
}

// errStaleRead says an object changed between two reads of one attempt.
var errStaleRead = errors.New("datastore changed while reading")
