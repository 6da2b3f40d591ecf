package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// result holds one backend's figures.
type result struct {
	name   string
	casSeq float64 // CAS updates/s, one writer
	casPar float64 // CAS updates/s, o.writers writers
	lat    latency
}

// latency summarises watch delivery times: after Update returned (the
// figure asked for) and end to end from the Update call (write + delivery).
type latency struct {
	p50, p99, max time.Duration
	e2eP50        time.Duration
	n             int
}

// casThroughput runs writers goroutines for d, each doing Get + Update
// (compare-and-swap) round-robin over its own share of the keys, and returns
// successful updates per second.
func casThroughput(ctx context.Context, b datastore.Backend, tag string, keys, writers int, d time.Duration) (float64, error) {
	if keys < writers {
		keys = writers
	}
	all := make([]datastore.Key, keys)
	for i := range all {
		all[i] = datastore.Key{Kind: "IPPool", Name: fmt.Sprintf("bench-%s-%03d", tag, i)}
		if _, err := b.Create(ctx, &datastore.KVPair{Key: all[i], Value: []byte(`{"n":0}`)}); err != nil {
			return 0, err
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		first error
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			var err error
			for i := w; time.Now().Before(deadline); i += writers {
				if err = casOnce(ctx, b, all[i%keys], n); err != nil {
					break
				}
				n++
			}
			mu.Lock()
			total += n
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// casOnce is one read-modify-write. Keys are not shared between writers, so
// a conflict here is a bug, not contention.
func casOnce(ctx context.Context, b datastore.Backend, key datastore.Key, n int) error {
	kv, err := b.Get(ctx, key)
	if err != nil {
		return err
	}
	kv.Value = []byte(fmt.Sprintf(`{"n":%d}`, n))
	_, err = b.Update(ctx, kv)
	return err
}

// watchLatency updates one key samples times, one at a time, and measures
// how long after Update returns the watcher holds the event. An event that
// arrives before Update returns counts as zero.
func watchLatency(ctx context.Context, b datastore.Backend, samples int) (latency, error) {
	key := datastore.Key{Kind: "IPPool", Name: "bench-watch"}
	kv, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: []byte(`{"n":0}`)})
	if err != nil {
		return latency{}, err
	}
	w, err := b.Watch(ctx, datastore.ListOptions{Kind: "IPPool", NamePrefix: "bench-watch"}, kv.Revision)
	if err != nil {
		return latency{}, err
	}
	defer w.Stop()
	type arrival struct {
		rev string
		at  time.Time
		err error
	}
	arrivals := make(chan arrival, 16)
	go func() {
		for ev := range w.Events() {
			arrivals <- arrival{rev: ev.Revision, at: time.Now(), err: ev.Err}
		}
		close(arrivals)
	}()
	times := make([]time.Duration, 0, samples)
	e2e := make([]time.Duration, 0, samples)
	for i := 1; i <= samples; i++ {
		kv.Value = []byte(fmt.Sprintf(`{"n":%d}`, i))
		called := time.Now()
		if kv, err = b.Update(ctx, kv); err != nil {
			return latency{}, err
		}
		returned := time.Now()
		select {
		case a, ok := <-arrivals:
			if !ok || a.err != nil {
				return latency{}, fmt.Errorf("watch ended after %d samples: %v", i-1, a.err)
			}
			if a.rev != kv.Revision {
				return latency{}, fmt.Errorf("watch delivered revision %s; expected %s", a.rev, kv.Revision)
			}
			times = append(times, max(0, a.at.Sub(returned)))
			e2e = append(e2e, a.at.Sub(called))
		case <-time.After(10 * time.Second):
			return latency{}, fmt.Errorf("no event for revision %s within 10s", kv.Revision)
		}
	}
	slices.Sort(times)
	slices.Sort(e2e)
	return latency{
		e2eP50: e2e[len(e2e)/2],
		p50:    times[len(times)*50/100],
		p99:    times[len(times)*99/100],
		max:    times[len(times)-1],
		n:      len(times),
	}, nil
}

// render prints the figures as a markdown fragment, with each figure's ratio
// to the first row (the external etcd baseline).
func render(o options, rows []result) string {
	var s strings.Builder
	fmt.Fprintf(&s, "### Datastore: embedded vs external etcd\n\n")
	fmt.Fprintf(&s, "Measured %s on %s. CAS: Get + Update over %d keys for %s (sequential, then %d writers); "+
		"watch latency: Update returning → watcher receiving, %d samples. Ratios are to the external etcd in the same run.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine(), o.keys, o.duration, o.writers, o.samples)
	fmt.Fprintf(&s, "| Backend | CAS updates/s (1 writer) | CAS updates/s (%d writers) | watch p50 | watch p99 | watch max | Update call → event p50 |\n", o.writers)
	fmt.Fprintf(&s, "|---|---|---|---|---|---|---|\n")
	base := rows[0]
	for i, r := range rows {
		ratio := func(v, b float64) string {
			if i == 0 || b == 0 {
				return ""
			}
			return fmt.Sprintf(" (%.2f×)", v/b)
		}
		fmt.Fprintf(&s, "| %s | %.0f%s | %.0f%s | %s%s | %s%s | %s | %s%s |\n", r.name,
			r.casSeq, ratio(r.casSeq, base.casSeq),
			r.casPar, ratio(r.casPar, base.casPar),
			us(r.lat.p50), ratio(float64(r.lat.p50), float64(base.lat.p50)),
			us(r.lat.p99), ratio(float64(r.lat.p99), float64(base.lat.p99)),
			us(r.lat.max),
			us(r.lat.e2eP50), ratio(float64(r.lat.e2eP50), float64(base.lat.e2eP50)))
	}
	s.WriteString("\nThroughput ratios above 1 and latency ratios below 1 favour the row over the baseline. " +
		"A watch p50 of 0µs means etcd usually delivers the event before the writer has its reply.\n")
	return s.String()
}

// us formats a duration in microseconds, readable at any magnitude.
func us(d time.Duration) string {
	return fmt.Sprintf("%dµs", d.Microseconds())
}
