package controllers

import (
	"context"

	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamGC runs IPAM garbage collection: each pass checks every allocation
// against the API server (owners) and repairs, through ipam.GC, only the
// problems seen unchanged for the leak grace period. The pass that
// releases an address has itself just confirmed, live, that its pod is
// gone (or holds another address); the release is guarded by the
// allocation's handle and sequence number, so an address reassigned in
// the meantime is never touched. A pod that reappears within the grace
// period drops out of the report and its clock starts again.
type ipamGC struct {
	m  *Manager
	o  *owners
	gc *ipam.GC
}

func newIPAMGC(m *Manager, o *owners) *ipamGC {
	return &ipamGC{m: m, o: o, gc: m.ipam.NewGC(m.cfg.LeakGracePeriod)}
}

// pass checks and repairs once.
func (g *ipamGC) pass(ctx context.Context) error {
	res, err := g.gc.Run(ctx, g.o.checkOptions())
	g.m.metrics.ipamGC.WithLabelValues("ip").Add(float64(res.ReleasedIPs))
	g.m.metrics.ipamGC.WithLabelValues("handle").Add(float64(res.RepairedHandles + res.RecountedHandles))
	g.m.metrics.ipamGC.WithLabelValues("affinity").Add(float64(res.RemovedAffinities + res.ReleasedNodeAffinities))
	g.m.metrics.ipamGC.WithLabelValues("block").Add(float64(res.DeletedEmptyBlocks))
	if res != (ipam.GCResult{}) {
		g.m.log.Info("IPAM garbage collection", "releasedIPs", res.ReleasedIPs, "repairedHandles", res.RepairedHandles,
			"recountedHandles", res.RecountedHandles, "removedAffinities", res.RemovedAffinities,
			"releasedNodeAffinities", res.ReleasedNodeAffinities, "deletedEmptyBlocks", res.DeletedEmptyBlocks,
			"waitingForGracePeriod", res.Waiting, "grace", g.m.cfg.LeakGracePeriod)
	}
	return err
}
