package lab

import (
	"context"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedScenario_BGPSameSubnetVXLANCrossSubnet: three nodes, two on
// rack-a and one behind the fabric's router on rack-b, BGP full mesh and a
// VXLAN CrossSubnet pool (the lab's default). Pods on the two rack-a nodes
// talk over plain BGP routes, with no packet through vxlan.calico; a pod on
// rack-b is reached through vxlan.calico, every packet of it counted there.
func TestPrivilegedScenario_BGPSameSubnetVXLANCrossSubnet(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets: []Subnet{{Name: "rack-a", CIDR: "198.18.1.0/24"}, {Name: "rack-b", CIDR: "198.18.2.0/24"}},
		Nodes:   []Node{{Name: "node-1", Subnet: "rack-a"}, {Name: "node-2", Subnet: "rack-a"}, {Name: "node-3", Subnet: "rack-b"}},
		Pool:    Pool{VXLANMode: "CrossSubnet"},
		Backend: "bird",
		Pods: []PodSpec{
			{Name: "a1", Node: "node-1"},
			{Name: "a2", Node: "node-2"},
			{Name: "b", Node: "node-3"},
		},
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a1, _ := l.Pod("a1")
	a2, _ := l.Pod("a2")
	b, _ := l.Pod("b")

	// Every node learns a route to every other node's pods; then all pods
	// reach each other over ICMP, TCP and UDP.
	waitRoute(t, ctx, l, "node-1", a2, "via 198.18.1.3 dev eth0", "proto bird")
	waitRoute(t, ctx, l, "node-2", a1, "via 198.18.1.2 dev eth0", "proto bird")
	waitRoute(t, ctx, l, "node-1", b, "dev vxlan.calico", "onlink")
	waitRoute(t, ctx, l, "node-3", a1, "dev vxlan.calico", "onlink")
	for _, proto := range []string{ProtoICMP, ProtoTCP, ProtoUDP} {
		m := expectMatrix(t, ctx, l, proto, allReach, convergeTimeout)
		t.Logf("%s:\n%s", proto, m)
	}

	t.Run("SameSubnetIsNotEncapsulated", func(t *testing.T) {
		before1, before2 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-2")
		pingBurst(t, ctx, l, "a1", "a2", 50)
		after1, after2 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-2")
		if sent, got := after1.TX-before1.TX, after2.RX-before2.RX; sent != 0 || got != 0 {
			t.Errorf("50 echoes node-1 → node-2 (same subnet): vxlan.calico sent %d packets on node-1, received %d on node-2; want 0 and 0", sent, got)
		}
	})

	t.Run("CrossSubnetIsEncapsulated", func(t *testing.T) {
		before1, before3 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-3")
		pingBurst(t, ctx, l, "a1", "b", 50)
		after1, after3 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-3")
		// 50 echoes out and 50 replies back, each way through the tunnel.
		if d := after1.TX - before1.TX; d < 50 {
			t.Errorf("50 echoes node-1 → node-3 (other subnet): vxlan.calico on node-1 sent %d packets, want ≥ 50", d)
		}
		if d := after3.RX - before3.RX; d < 50 {
			t.Errorf("50 echoes node-1 → node-3: vxlan.calico on node-3 received %d packets, want ≥ 50", d)
		}
		if d := after1.RX - before1.RX; d < 50 {
			t.Errorf("50 replies node-3 → node-1: vxlan.calico on node-1 received %d packets, want ≥ 50", d)
		}
	})
}

// TestPrivilegedScenario_VXLANAlways: two nodes on one subnet with the vxlan
// backend (no BGP) and a VXLAN Always pool: even same-subnet pod traffic
// goes through vxlan.calico.
func TestPrivilegedScenario_VXLANAlways(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets: []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
		Nodes:   []Node{{Name: "node-1", Subnet: "s1"}, {Name: "node-2", Subnet: "s1"}},
		Pool:    Pool{VXLANMode: "Always"},
		Backend: "vxlan",
		Pods:    []PodSpec{{Name: "a", Node: "node-1"}, {Name: "b", Node: "node-2"}},
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, _ := l.Pod("a")
	b, _ := l.Pod("b")

	waitRoute(t, ctx, l, "node-1", b, "dev vxlan.calico", "onlink")
	waitRoute(t, ctx, l, "node-2", a, "dev vxlan.calico", "onlink")
	for _, proto := range []string{ProtoICMP, ProtoTCP, ProtoUDP} {
		expectMatrix(t, ctx, l, proto, allReach, convergeTimeout)
	}

	before1, before2 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-2")
	pingBurst(t, ctx, l, "a", "b", 50)
	after1, after2 := vxlanCounters(t, ctx, l, "node-1"), vxlanCounters(t, ctx, l, "node-2")
	if d := after1.TX - before1.TX; d < 50 {
		t.Errorf("50 echoes node-1 → node-2 (same subnet, Always): vxlan.calico on node-1 sent %d packets, want ≥ 50", d)
	}
	if d := after2.RX - before2.RX; d < 50 {
		t.Errorf("50 echoes node-1 → node-2: vxlan.calico on node-2 received %d packets, want ≥ 50", d)
	}
}
