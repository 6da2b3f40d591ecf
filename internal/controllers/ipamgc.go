package controllers

import (
	"context"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/tricolor-net/tricolor/internal/ipam"
)

// minKickInterval spaces the passes triggered by pod deletions, so a mass
// deletion costs one pass every few seconds, not one per pod.
const minKickInterval = 2 * time.Second

// ipamGC runs IPAM garbage collection: each pass checks every allocation
// against the API server (owners) and repairs, through ipam.GC, only the
// problems seen unchanged for the leak grace period. The pass that
// releases an address has itself just confirmed, live, that its pod is
// gone (or holds another address); the release is guarded by the
// allocation's handle and sequence number, so an address reassigned in
// the meantime is never touched. A pod that reappears within the grace
// period drops out of the report and its clock starts again.
//
// Passes run every ReconcilerPeriod, soon after a pod is deleted (its
// address may have leaked: the clock starts then), and once more a grace
// period after a pass that left problems waiting, so a leak is released
// about a grace period after it appears rather than up to a period later.
type ipamGC struct {
	m             *Manager
	o             *owners
	gc            *ipam.GC
	grace, period time.Duration
	kick          chan struct{} // one slot: "a pass is wanted"
}

func newIPAMGC(m *Manager, f informers.SharedInformerFactory, o *owners, grace, period time.Duration) *ipamGC {
	g := &ipamGC{m: m, o: o, gc: m.ipam.NewGC(grace), grace: grace, period: period, kick: make(chan struct{}, 1)}
	_, _ = f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(any) {
		select {
		case g.kick <- struct{}{}:
		default: // a pass is already wanted
		}
	}})
	return g
}

// run passes until ctx ends.
func (g *ipamGC) run(ctx context.Context) {
	period := time.NewTicker(g.period)
	defer period.Stop()
	var followUp <-chan time.Time
	for {
		res, err := g.pass(ctx)
		if err != nil && ctx.Err() == nil {
			g.m.log.Warn("IPAM garbage collection failed; retrying next pass", "err", err)
		}
		if res.Waiting > 0 && followUp == nil {
			followUp = time.After(g.grace)
		}
		last := time.Now()
		select {
		case <-ctx.Done():
			return
		case <-period.C:
		case <-followUp:
			followUp = nil
		case <-g.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(last.Add(minKickInterval))):
			}
		}
	}
}

// pass checks and repairs once.
func (g *ipamGC) pass(ctx context.Context) (ipam.GCResult, error) {
	res, err := g.gc.Run(ctx, g.o.checkOptions())
	g.m.metrics.ipamGC.WithLabelValues("ip").Add(float64(res.ReleasedIPs))
	g.m.metrics.ipamGC.WithLabelValues("handle").Add(float64(res.RepairedHandles + res.RecountedHandles))
	g.m.metrics.ipamGC.WithLabelValues("affinity").Add(float64(res.RemovedAffinities + res.ReleasedNodeAffinities))
	g.m.metrics.ipamGC.WithLabelValues("block").Add(float64(res.DeletedEmptyBlocks))
	if res != (ipam.GCResult{}) {
		g.m.log.Info("IPAM garbage collection", "releasedIPs", res.ReleasedIPs, "repairedHandles", res.RepairedHandles,
			"recountedHandles", res.RecountedHandles, "removedAffinities", res.RemovedAffinities,
			"releasedNodeAffinities", res.ReleasedNodeAffinities, "deletedEmptyBlocks", res.DeletedEmptyBlocks,
			"waitingForGracePeriod", res.Waiting, "grace", g.grace)
	}
	return res, err
}
