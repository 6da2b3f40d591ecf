package ipam

import (
	"context"
	"errors"
	"testing"
)

// killAt returns a fault hook that kills the client the first time it
// reaches point.
func killAt(point FaultPoint) func(FaultPoint) error {
	done := false
	return func(p FaultPoint) error {
		if p == point && !done {
			done = true
			return ErrKilled
		}
		return nil
	}
}

// TestFault_KilledBetweenClaimAndAllocation kills a client after it has
// claimed a block and counted the allocation in its handle, before the
// block holds the allocation: Check reports exactly that handle and GC
// repairs it, after which the datastore is clean.
func TestFault_KilledBetweenClaimAndAllocation(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.node("node-1", nil)
	dying := New(e.be, Options{Logger: quietLogger(), Fault: killAt(FaultAfterHandleWrite)})
	_, _, err := dying.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network.dead", Hostname: "node-1"})
	if !errors.Is(err, ErrKilled) {
		t.Fatalf("AutoAssign = %v; want the injected kill", err)
	}
	r := e.check()
	if r.Problems() != 1 || len(r.HandlesWithoutAllocations) != 1 {
		t.Fatalf("check found %d problems: %+v; want exactly one handle without allocations", r.Problems(), r)
	}
	if p := r.HandlesWithoutAllocations[0]; p.Handle != "k8s-pod-network.dead" || p.Counted != 1 || p.Actual != 0 {
		t.Errorf("reported %+v; want handle k8s-pod-network.dead counting 1, holding 0", p)
	}
	res, err := e.m.NewGC(0).Run(ctx, CheckOptions{})
	if err != nil || res.RepairedHandles != 1 {
		t.Fatalf("GC: %+v %v; want one repaired handle", res, err)
	}
	if r := e.check(); !r.OK() {
		t.Errorf("after GC: %+v", r)
	}
	if n := e.count(kindIPAMHandle); n != 0 {
		t.Errorf("%d handles after GC; want 0", n)
	}
}

// TestFault_KilledAfterAllocationIsALeakGCReleases kills a client after the
// allocation is stored but before the caller learns the address: the
// owner never uses it, Check (told which pods exist) reports the leaked
// IP, and GC releases it once the grace period has passed.
func TestFault_KilledAfterAllocationIsALeakGCReleases(t *testing.T) {
	e := newEnv(t)
	now := mustTime("2026-01-01T00:00:00Z")
	e.m.now = func() timeT { return now }
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.node("node-1", nil)
	e.mustAssign("node-1", "k8s-pod-network.alive", 1)
	dying := New(e.be, Options{Logger: quietLogger(), Fault: killAt(FaultAfterBlockWrite)})
	if _, _, err := dying.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network.dead", Hostname: "node-1"}); !errors.Is(err, ErrKilled) {
		t.Fatalf("AutoAssign = %v; want the injected kill", err)
	}
	owners := CheckOptions{OwnerExists: func(_ context.Context, a Allocation) (bool, error) {
		return a.Handle == "k8s-pod-network.alive", nil
	}}
	r, err := e.m.Check(ctx, owners)
	if err != nil {
		t.Fatal(err)
	}
	if r.Problems() != 1 || len(r.LeakedIPs) != 1 || r.LeakedIPs[0].Handle != "k8s-pod-network.dead" {
		t.Fatalf("check: %+v; want exactly the dead pod's address leaked", r)
	}
	gc := e.m.NewGC(5 * second)
	if res, _ := gc.Run(ctx, owners); res.ReleasedIPs != 0 || res.Waiting != 1 {
		t.Fatalf("first GC pass: %+v; want the leak held for its grace period", res)
	}
	now = now.Add(6 * second)
	if res, err := gc.Run(ctx, owners); err != nil || res.ReleasedIPs != 1 {
		t.Fatalf("second GC pass: %+v %v; want the leak released", res, err)
	}
	if r, _ := e.m.Check(ctx, owners); !r.OK() {
		t.Errorf("after GC: %+v", r)
	}
	if ips, err := e.m.IPsByHandle(ctx, "k8s-pod-network.alive"); err != nil || len(ips) != 1 {
		t.Errorf("the live pod's address: %v %v; want untouched", ips, err)
	}
}

// TestFault_KilledAfterPendingAffinity leaves a pending affinity with no
// block; Check reports it and GC removes it.
func TestFault_KilledAfterPendingAffinity(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	e.node("node-1", nil)
	dying := New(e.be, Options{Logger: quietLogger(), Fault: killAt(FaultAfterPendingAffinity)})
	if _, _, err := dying.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: "h", Hostname: "node-1"}); !errors.Is(err, ErrKilled) {
		t.Fatalf("AutoAssign = %v; want the injected kill", err)
	}
	r := e.check()
	if r.Problems() != 1 || len(r.StaleAffinities) != 1 || r.StaleAffinities[0].State != affinityPending {
		t.Fatalf("check: %+v; want exactly one pending affinity without a block", r)
	}
	if res, err := e.m.NewGC(0).Run(ctx, CheckOptions{}); err != nil || res.RemovedAffinities != 1 {
		t.Fatalf("GC: %+v %v", res, err)
	}
	if r := e.check(); !r.OK() {
		t.Errorf("after GC: %+v", r)
	}
}

// TestGC_NodeDeletedReleasesItsBlocks removes the affinities of a node that
// no longer exists: its empty block goes, its used block becomes unowned.
func TestGC_NodeDeletedReleasesItsBlocks(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 30, nil)
	ips := e.mustAssign("gone", "h", 5) // two blocks
	if _, err := e.m.ReleaseIPs(ctx, ReleaseOptions{Address: ips[4]}); err != nil {
		t.Fatal(err)
	}
	r := e.check()
	if len(r.BlocksOfMissingNodes) != 2 {
		t.Fatalf("check: %+v; want both blocks of the missing node", r)
	}
	if _, err := e.m.NewGC(0).Run(ctx, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if a, b := e.count(kindBlockAffinity), e.count(kindIPAMBlock); a != 0 || b != 1 {
		t.Errorf("after GC: %d affinities, %d blocks; want 0 and the 1 block still in use", a, b)
	}
	if got, _ := e.m.IPsByHandle(ctx, "h"); len(got) != 4 {
		t.Errorf("handle h holds %v; want its 4 addresses kept", got)
	}
}
