package bgp

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// statusSnapshot is a node with one established mesh peer, one global
// peer still connecting, an IPv6 node-specific peer, a learned route from
// each IPv4 peer and one blackhole.
func statusSnapshot() Snapshot {
	boot := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mesh := Peer{Address: netip.MustParseAddr("198.18.0.12"), Type: PeerTypeMesh}
	tor := Peer{Address: netip.MustParseAddr("198.18.0.1"), Type: PeerTypeGlobal}
	v6 := Peer{Address: netip.MustParseAddr("fd00::1"), Type: PeerTypeNode}
	return Snapshot{
		Running: true, RouterID: netip.MustParseAddr("198.18.0.11"),
		BootTime: boot, ReconfiguredAt: boot.Add(time.Minute),
		Peers: []PeerStatus{
			{Peer: tor, State: "Active"},
			{Peer: mesh, State: "Established", Since: boot.Add(2 * time.Second)},
			{Peer: v6, State: "Established"},
		},
		Learned: []LearnedRoute{
			{Prefix: netip.MustParsePrefix("10.244.1.0/26"), NextHop: mesh.Address, Peer: mesh.Address},
			{Prefix: netip.MustParsePrefix("10.0.0.0/8"), NextHop: tor.Address, Peer: tor.Address},
		},
		Blackholes: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/26")},
		// The ToR's route lost to another owner's route in the kernel.
		Installed: map[netip.Prefix]string{netip.MustParsePrefix("10.244.1.0/26"): "eth0"},
	}
}

func TestBuildNodeStatus(t *testing.T) {
	now := time.Date(2026, 1, 2, 4, 0, 0, 500, time.UTC)
	all := []v3.NodeStatusClassType{v3.NodeStatusClassTypeAgent, v3.NodeStatusClassTypeBGP, v3.NodeStatusClassTypeRoutes}
	daemon := v3.BGPDaemonStatus{State: v3.BGPDaemonStateReady, Version: speakerVersion(), RouterID: "198.18.0.11",
		LastBootTime: "2026-01-02 03:04:05", LastReconfigurationTime: "2026-01-02 03:05:05"}
	bgp := v3.CalicoNodeBGPStatus{
		NumberEstablishedV4: 1, NumberNotEstablishedV4: 1, NumberEstablishedV6: 1,
		PeersV4: []v3.CalicoNodePeer{
			{PeerIP: "198.18.0.1", Type: v3.BGPPeerTypeGlobalPeer, State: v3.BGPSessionStateActive},
			{PeerIP: "198.18.0.12", Type: v3.BGPPeerTypeNodeMesh, State: v3.BGPSessionStateEstablished, Since: "03:04:07"},
		},
		PeersV6: []v3.CalicoNodePeer{{PeerIP: "fd00::1", Type: v3.BGPPeerTypeNodePeer, State: v3.BGPSessionStateEstablished}},
	}
	routes := v3.CalicoNodeBGPRouteStatus{RoutesV4: []v3.CalicoNodeRoute{
		{Type: v3.RouteTypeRIB, Destination: "10.0.0.0/8", Gateway: "198.18.0.1",
			LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeBGPPeer, PeerIP: "198.18.0.1"}},
		{Type: v3.RouteTypeFIB, Destination: "10.244.0.0/26", Gateway: "N/A", Interface: "blackhole",
			LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeStatic}},
		{Type: v3.RouteTypeFIB, Destination: "10.244.1.0/26", Gateway: "198.18.0.12", Interface: "eth0",
			LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeNodeMesh, PeerIP: "198.18.0.12"}},
	}}
	notRunning := statusSnapshot()
	notRunning.Running = false
	tests := []struct {
		name    string
		classes []v3.NodeStatusClassType
		snap    Snapshot
		want    v3.CalicoNodeStatusStatus
	}{
		{"all classes", all, statusSnapshot(), v3.CalicoNodeStatusStatus{
			Agent: v3.CalicoNodeAgentStatus{BIRDV4: daemon, BIRDV6: daemon}, BGP: bgp, Routes: routes}},
		{"only BGP", []v3.NodeStatusClassType{v3.NodeStatusClassTypeBGP}, statusSnapshot(), v3.CalicoNodeStatusStatus{BGP: bgp}},
		{"only routes", []v3.NodeStatusClassType{v3.NodeStatusClassTypeRoutes}, statusSnapshot(), v3.CalicoNodeStatusStatus{Routes: routes}},
		{"agent not ready before the first apply", []v3.NodeStatusClassType{v3.NodeStatusClassTypeAgent}, Snapshot{},
			v3.CalicoNodeStatusStatus{Agent: v3.CalicoNodeAgentStatus{
				BIRDV4: v3.BGPDaemonStatus{State: v3.BGPDaemonStateNotReady, Version: speakerVersion()},
				BIRDV6: v3.BGPDaemonStatus{State: v3.BGPDaemonStateNotReady, Version: speakerVersion()}}}},
		{"agent not ready", []v3.NodeStatusClassType{v3.NodeStatusClassTypeAgent}, notRunning, func() v3.CalicoNodeStatusStatus {
			d := daemon
			d.State = v3.BGPDaemonStateNotReady
			return v3.CalicoNodeStatusStatus{Agent: v3.CalicoNodeAgentStatus{BIRDV4: d, BIRDV6: d}}
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.LastUpdated = metav1.NewTime(now.Truncate(time.Second))
			got := BuildNodeStatus(tc.classes, tc.snap, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func newNodeStatus(name, node string, period uint32) *v3.CalicoNodeStatus {
	s := v3.NewCalicoNodeStatus()
	s.Name = name
	s.Spec = v3.CalicoNodeStatusSpec{Node: node, UpdatePeriodSeconds: &period,
		Classes: []v3.NodeStatusClassType{v3.NodeStatusClassTypeBGP}}
	return s
}

func TestNodeStatusReporter_WritesOnlyThisNodesResourcesEveryPeriod(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := client.New(memory.New())
	for _, s := range []*v3.CalicoNodeStatus{
		newNodeStatus("mine", "node-a", 1),
		newNodeStatus("never", "node-a", 0),
		newNodeStatus("theirs", "node-b", 1),
	} {
		if _, err := c.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	r := NewNodeStatusReporter("node-a", c, func(context.Context) (Snapshot, error) { return statusSnapshot(), nil }, testLogger())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	get := func(name string) *v3.CalicoNodeStatus {
		s, err := client.Get[*v3.CalicoNodeStatus](ctx, c, "", name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitFor(t, "the first report", 10*time.Second, func() bool { return get("mine").Status.BGP.NumberEstablishedV4 == 1 })
	first := get("mine")
	if n := len(first.Status.BGP.PeersV4); n != 2 || first.Status.Routes.RoutesV4 != nil {
		t.Errorf("status %+v: want 2 IPv4 peers and no routes (class not asked for)", first.Status)
	}
	// A second report follows a period later (a new revision and time).
	waitFor(t, "the second report", 10*time.Second, func() bool {
		s := get("mine")
		return s.ResourceVersion != first.ResourceVersion && s.Status.LastUpdated.After(first.Status.LastUpdated.Time)
	})
	for _, name := range []string{"never", "theirs"} {
		if s := get(name); !s.Status.LastUpdated.IsZero() {
			t.Errorf("%s was written: %+v", name, s.Status)
		}
	}

	// Moving the resource to another node stops the reports.
	// (Retried: a report may land between our read and our write.)
	waitFor(t, "moving the resource", 5*time.Second, func() bool {
		moved := get("mine")
		moved.Spec.Node = "node-b"
		moved.Status = v3.CalicoNodeStatusStatus{}
		_, err := c.Update(ctx, moved)
		return err == nil
	})
	time.Sleep(2500 * time.Millisecond)
	if s := get("mine"); !s.Status.LastUpdated.IsZero() {
		t.Errorf("reported after spec.node moved to node-b: %+v", s.Status)
	}
}

func TestNodeStatusReporter_ReportIgnoresAMissingResource(t *testing.T) {
	c := client.New(memory.New())
	r := NewNodeStatusReporter("node-a", c, func(context.Context) (Snapshot, error) { return statusSnapshot(), nil }, testLogger())
	if err := r.Report(context.Background(), "gone"); err != nil {
		t.Fatalf("report of a deleted resource: %v", err)
	}
}
