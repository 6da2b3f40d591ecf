package nft

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A periodic read-back of a big table is slow: `nft -j list table` renders
// every rule as JSON — seconds at 1,000 endpoints and policies, over a
// minute on a loaded 2-core machine. Run in the apply loop it would hold
// back every policy change behind it, so the Reconciler can read in the
// background and adopt the result later. Transactions keep running while
// it reads; the objects they wrote may appear in the snapshot before or
// after the write, so for those the cache's own view is kept, and drift is
// judged on everything else.

// readResult is a background read-back's outcome.
type readResult struct {
	st  *state
	err error
}

// written names the objects transactions changed while a background read
// ran.
type written struct {
	table              bool
	chains, sets, maps map[string]bool
}

// note records what one transaction changed (have → next).
func (w *written) note(have, next *state) {
	if have.tableExists != next.tableExists {
		w.table = true
	}
	for name, c := range next.chains {
		if old, ok := have.chains[name]; !ok || !slices.Equal(old, c) {
			w.chains[name] = true
		}
	}
	for name, e := range next.sets {
		if old, ok := have.sets[name]; !ok || !sameMap(old, e) && !maps.Equal(old, e) {
			w.sets[name] = true
		}
	}
	for name, e := range next.maps {
		if old, ok := have.maps[name]; !ok || !maps.Equal(old, e) {
			w.maps[name] = true
		}
	}
	for name := range have.chains {
		if _, ok := next.chains[name]; !ok {
			w.chains[name] = true
		}
	}
	for name := range have.sets {
		if _, ok := next.sets[name]; !ok {
			w.sets[name] = true
		}
	}
	for name := range have.maps {
		if _, ok := next.maps[name]; !ok {
			w.maps[name] = true
		}
	}
}

// overlay copies the written objects from cache into st.
func (w *written) overlay(st, cache *state) {
	if w.table {
		st.tableExists = cache.tableExists
	}
	overlayMap(st.chains, cache.chains, w.chains)
	overlayMap(st.sets, cache.sets, w.sets)
	overlayMap(st.maps, cache.maps, w.maps)
}

func overlayMap[V any](dst, src map[string]V, names map[string]bool) {
	for name := range names {
		if v, ok := src[name]; ok {
			dst[name] = v
		} else {
			delete(dst, name)
		}
	}
}

// ReadBackOutcome says what CollectReadBack found.
type ReadBackOutcome int

const (
	// ReadBackNone: no background read finished since the last call.
	ReadBackNone ReadBackOutcome = iota
	// ReadBackAdopted: the read became the cache; Drift says how many
	// objects differed, and the next Sync repairs them.
	ReadBackAdopted
	// ReadBackStale: a transaction failed while the read was in progress,
	// so the cache is unknown; the read was dropped (the next Sync reads
	// the table synchronously).
	ReadBackStale
	// ReadBackFailed: listing the table failed (the error says why).
	ReadBackFailed
)

// CanReadBackInBackground reports whether StartReadBack can run: the nft
// interface lists the table in one call (TableLister).
func (r *Reconciler) CanReadBackInBackground() bool {
	_, ok := r.nft.(TableLister)
	return ok
}

// StartReadBack begins re-reading the kernel's table on another goroutine
// (whose thread joins the calling thread's network namespace, so the nft
// it runs sees the same table). It returns true when a read is running
// — started now or earlier — and false when this Reconciler's nft cannot
// list the table in one call (no TableLister); the caller then uses
// ReadBack. Collect the result with CollectReadBack.
func (r *Reconciler) StartReadBack(ctx context.Context) bool {
	lister, ok := r.nft.(TableLister)
	if !ok {
		return false
	}
	if r.reading != nil {
		return true
	}
	ch := make(chan readResult, 1) // buffered: the reader never blocks
	r.reading = ch
	r.written = &written{chains: map[string]bool{}, sets: map[string]bool{}, maps: map[string]bool{}}
	read := func(joinErr error) {
		if joinErr != nil {
			ch <- readResult{err: joinErr}
			return
		}
		data, exists, err := lister.ListTableJSON(ctx)
		res := readResult{err: err}
		if err == nil {
			if !exists {
				res.st = newState()
			} else {
				res.st, res.err = parseTableJSON(data)
			}
		}
		ch <- res
	}
	if err := goInCallersNetns(read); err != nil {
		ch <- readResult{err: err}
	}
	return true
}

// CollectReadBack adopts a finished background read-back, if any. On
// ReadBackAdopted, drift is the number of objects the kernel held
// differently from the cache.
func (r *Reconciler) CollectReadBack() (outcome ReadBackOutcome, drift int, err error) {
	if r.reading == nil {
		return ReadBackNone, 0, nil
	}
	var res readResult
	select {
	case res = <-r.reading:
	default:
		return ReadBackNone, 0, nil
	}
	w := r.written
	r.reading, r.written = nil, nil
	switch {
	case res.err != nil:
		return ReadBackFailed, 0, fmt.Errorf("background read back of table %s %s: %w", r.family, r.table, res.err)
	case r.actual == nil:
		return ReadBackStale, 0, nil
	}
	w.overlay(res.st, r.actual)
	drift = diffCount(r.actual, res.st)
	r.actual, r.synced = res.st, nil
	return ReadBackAdopted, drift, nil
}

// readBackNice is the nice value of the background read-back's thread and
// of the nft it runs (children inherit it): listing a 70,000-rule table
// costs seconds of CPU, which must not delay a policy change's apply on a
// busy node.
const readBackNice = 19

// goInCallersNetns runs fn on a new goroutine whose OS thread is in the
// network namespace of the calling thread (Felix's loop may be locked to a
// thread in a node namespace; a plain goroutine could run anywhere), at
// nice readBackNice. fn gets the error when the thread could not join that
// namespace, and must then touch nothing. The thread is never reused (it
// may have switched namespace, and it is niced): it exits with the
// goroutine.
func goInCallersNetns(fn func(joinErr error)) error {
	target, err := netns.Get()
	if err != nil {
		return fmt.Errorf("read this thread's network namespace: %w", err)
	}
	go func() {
		defer target.Close()
		runtime.LockOSThread() // never unlocked: see above
		// Best effort: at worst the read runs at normal priority.
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), readBackNice)
		cur, err := netns.Get()
		if err != nil {
			fn(fmt.Errorf("read the reader thread's network namespace: %w", err))
			return
		}
		same := cur.Equal(target)
		cur.Close()
		if !same {
			if err := netns.Set(target); err != nil {
				fn(fmt.Errorf("join the caller's network namespace: %w", err))
				return
			}
		}
		fn(nil)
	}()
	return nil
}
