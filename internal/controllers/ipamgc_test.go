package controllers

import (
	"testing"
	"time"
)

// A pod deleted without a CNI DEL leaves its address allocated: IPAM GC
// releases it once the grace period has passed, not before; an address
// whose pod comes back within the grace period is kept.
func TestIPAMGC_ReleasesLeakedAddressAfterGraceOnly(t *testing.T) {
	cl := newCluster(t)
	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.pod("apps", "leaky", "node-a", nil)
	cl.allocate("k8s-pod-network.leaky", "node-a", "apps", "leaky")
	cl.pod("apps", "returns", "node-a", nil)
	cl.allocate("k8s-pod-network.returns", "node-a", "apps", "returns")
	cl.pod("apps", "alive", "node-a", nil)
	cl.allocate("k8s-pod-network.alive", "node-a", "apps", "alive")

	const grace = 5 * time.Second
	cl.deletePod("apps", "leaky")
	cl.deletePod("apps", "returns")
	start := time.Now()
	cl.start(Config{Enabled: []string{ControllerNode}, LeakGracePeriod: grace, ReconcilerPeriod: 300 * time.Millisecond})

	// Well inside the grace period: nothing released, although GC has
	// passed several times and seen both pods gone.
	time.Sleep(2 * time.Second)
	if time.Since(start) < grace && !cl.allocated("k8s-pod-network.leaky") {
		t.Fatal("the leaked address was released before the grace period ended")
	}
	cl.pod("apps", "returns", "node-a", nil)

	eventually(t, 60*time.Second, "the leaked address is released", func() bool { return !cl.allocated("k8s-pod-network.leaky") })
	if held := time.Since(start); held < grace {
		t.Errorf("released after %v, before the %v grace period", held, grace)
	}
	// Give GC several more passes past the grace period.
	time.Sleep(grace / 2)
	if !cl.allocated("k8s-pod-network.returns") {
		t.Error("the address of a pod that came back was released")
	}
	if !cl.allocated("k8s-pod-network.alive") {
		t.Error("the address of a live pod was released")
	}
}

// With a long reconcile period, a pod deleted without CNI DEL is still
// released about one grace period after its deletion: the deletion starts
// the clock and a follow-up pass runs when the grace period is over.
func TestIPAMGC_PodDeletionReleasesAtGraceNotAtPeriod(t *testing.T) {
	cl := newCluster(t)
	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.pod("apps", "leaky", "node-a", nil)
	cl.allocate("k8s-pod-network.leaky", "node-a", "apps", "leaky")

	const grace = 3 * time.Second
	cl.start(Config{Enabled: []string{ControllerNode}, LeakGracePeriod: grace, ReconcilerPeriod: time.Hour})
	deleted := time.Now()
	cl.deletePod("apps", "leaky")

	eventually(t, 30*time.Second, "the leaked address is released without waiting for the hourly period", func() bool {
		return !cl.allocated("k8s-pod-network.leaky")
	})
	held := time.Since(deleted)
	if held < grace {
		t.Errorf("released %v after the pod's deletion, before the %v grace period", held, grace)
	}
	t.Logf("released %v after the pod's deletion (grace %v, period 1h)", held.Round(10*time.Millisecond), grace)
}
