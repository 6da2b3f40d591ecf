package felix

import (
	"context"
	"errors"
	"sync"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane"
)

// loop is the only goroutine that touches the graph and the managers. It
// wakes for syncer input, the throttled apply timer, the refresh ticker
// and the health heartbeat.
func (f *Felix) loop(ctx context.Context, wg *sync.WaitGroup) error {
	applyTimer := time.NewTimer(time.Hour)
	applyTimer.Stop()
	armed := false
	arm := func(d time.Duration) {
		if armed {
			return // an earlier deadline is already set
		}
		applyTimer.Reset(d)
		armed = true
	}
	refreshTick := time.NewTicker(refreshTickPeriod(f.refresh))
	defer refreshTick.Stop()
	heartbeat := time.NewTicker(f.cfg.HealthTimeout / 3)
	defer heartbeat.Stop()

	for {
		select {
		case <-ctx.Done():
			applyTimer.Stop()
			return nil
		case <-f.inbox.wake:
			oldRefresh := f.refresh
			f.process(ctx, wg)
			if f.refresh != oldRefresh {
				refreshTick.Reset(refreshTickPeriod(f.refresh))
			}
		case <-applyTimer.C:
			armed = false
		case <-f.routeKick:
			// A workload interface appeared or a route on one was deleted:
			// resync now rather than at the next refresh tick.
			if f.wlroutes != nil {
				f.wlroutes.Resync()
				f.pending = true
			}
		case <-refreshTick.C:
			// The manager re-reads the kernel once its refresh interval has
			// passed since the last read; ticking at a fraction of it keeps
			// the repair within the interval.
			if f.inSync && f.refresh > 0 {
				f.pending = true
				if f.vxlan != nil {
					f.vxlan.Resync() // re-read and repair vxlan.calico and tunl0 too
					f.ipip.Resync()
					f.wlroutes.Resync()
				}
				if f.blackhole != nil {
					f.blackhole.Resync()
				}
			}
		case <-heartbeat.C:
			f.report()
			continue
		}
		if !f.pending || !f.inSync {
			continue
		}
		if wait := f.cfg.ApplyThrottle - time.Since(f.lastApply); wait > 0 {
			arm(wait)
			continue
		}
		if !f.apply(ctx) {
			arm(retryBackoff)
		}
	}
}

// refreshTickPeriod is how often the loop gives the manager a chance to
// run its periodic read-back.
func refreshTickPeriod(refresh time.Duration) time.Duration {
	if refresh <= 0 {
		return time.Hour // refresh disabled: the tick does nothing
	}
	return max(refresh/4, 50*time.Millisecond)
}

// process drains the inbox into the graph, flushes it and records the
// batch in the managers.
func (f *Felix) process(ctx context.Context, wg *sync.WaitGroup) {
	us, status := f.inbox.drain()
	if len(us) == 0 && status == 0 {
		return
	}
	start := time.Now()
	if len(us) > 0 {
		f.graph.OnUpdates(us)
	}
	if status != 0 {
		f.graph.OnStatusUpdated(status)
		f.log.Debug("datastore sync status", "status", status.String())
	}
	batch := f.graph.Flush()
	f.metrics.calcFlush.Observe(time.Since(start).Seconds())
	for _, u := range batch {
		switch cu := u.(type) {
		case calc.ConfigUpdate:
			u = f.configure(ctx, wg, cu)
		case calc.InSync:
			f.inSync = true
		}
		f.policy.OnUpdate(u)
		if f.vxlan != nil {
			f.vxlan.OnUpdate(u)
			f.ipip.OnUpdate(u)
			f.wlroutes.OnUpdate(u)
			f.sysctls.OnUpdate(u)
		}
		if f.blackhole != nil {
			f.blackhole.OnUpdate(u)
		}
	}
	if len(batch) > 0 {
		f.pending = true
	}
}

// configure overlays the FELIX_* environment on the graph's merged
// FelixConfiguration (env wins, Calico's precedence), adopts the settings
// the loop owns, and returns the update the managers get.
func (f *Felix) configure(ctx context.Context, wg *sync.WaitGroup, u calc.ConfigUpdate) calc.ConfigUpdate {
	spec := &v3.FelixConfigurationSpec{}
	if u.Config != nil {
		spec = u.Config.DeepCopy() // the graph's copy is read-only
	}
	if f.cfg.ApplyEnv != nil {
		if err := f.cfg.ApplyEnv(spec); err != nil {
			f.log.Error("FELIX_* environment override does not apply; using the datastore's value", "err", err)
		}
	}
	f.refresh = DefaultRefreshInterval
	if spec.IptablesRefreshInterval != nil {
		f.refresh = spec.IptablesRefreshInterval.Duration
		if f.refresh == 0 {
			f.refresh = -1 // 0 disables, as in Felix
		}
	}
	first := f.config == nil
	f.config = spec
	if first {
		f.startMetrics(ctx, wg, spec)
	} else {
		f.log.Info("Felix configuration changed; metrics and health listen settings take effect on restart")
	}
	return calc.ConfigUpdate{Config: spec}
}

// apply runs the managers' Apply and updates metrics and readiness. It
// returns false when the apply failed (the loop retries after a backoff).
func (f *Felix) apply(ctx context.Context) bool {
	f.lastApply = time.Now()
	if f.wlroutes != nil && f.policy.NeedsHostInterfaces() { // the kernel dataplane: resolve expectedIPs host endpoints
		if ifaces, err := dataplane.HostInterfaces(); err != nil {
			f.log.Warn("host endpoints by expectedIPs keep their last interfaces", "err", err)
		} else {
			f.policy.SetHostInterfaces(ifaces)
		}
	}
	err := f.policy.Apply(ctx)
	if f.vxlan != nil {
		if verr := f.vxlan.Apply(ctx); verr != nil {
			err = errors.Join(err, verr)
		}
		if ierr := f.ipip.Apply(ctx); ierr != nil {
			err = errors.Join(err, ierr)
		}
		if rerr := f.wlroutes.Apply(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
		if serr := f.sysctls.Apply(ctx); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if f.blackhole != nil {
		if berr := f.blackhole.Apply(ctx); berr != nil {
			err = errors.Join(err, berr)
		}
	}
	st := f.policy.Stats()
	if st.Applies != f.last.Applies {
		f.metrics.applyTime.Observe(st.LastApply.Seconds())
	}
	f.metrics.observe(f.last, st)
	f.last = st
	f.applyErr = err
	if err != nil {
		f.metrics.applyErrors.Inc()
		f.log.Error("dataplane apply failed; retrying", "err", err, "retryIn", retryBackoff)
		f.report()
		return false
	}
	f.pending = false
	f.markReady()
	f.report()
	return true
}
