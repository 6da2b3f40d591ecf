package lab

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedScenario_NATOutgoing: two nodes on rack-a and an external
// host on its own subnet behind the fabric's router; the external host has
// no route to the pod pool, like a server on the internet. With the pool's
// natOutgoing on (calico-node's default) pods reach it and it sees each
// pod's node address as the source; with natOutgoing turned off by
// calicoctl, it sees the pod's own address and its reply has nowhere to go.
func TestPrivilegedScenario_NATOutgoing(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets:       []Subnet{{Name: "rack-a", CIDR: "198.18.1.0/24"}, {Name: "outside", CIDR: "198.18.100.0/24"}},
		Nodes:         []Node{{Name: "node-1", Subnet: "rack-a"}, {Name: "node-2", Subnet: "rack-a"}},
		ExternalHosts: []ExternalHost{{Name: "internet", Subnet: "outside"}},
		Pods:          []PodSpec{{Name: "a", Node: "node-1"}, {Name: "b", Node: "node-2"}},
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const server = "198.18.100.2:5353"
	seen := recordUDPSources(t, hostNetns(l, "internet"), server)
	a, _ := l.Pod("a")
	b, _ := l.Pod("b")

	t.Run("NATOutgoingOnTheExternalHostSeesTheNode", func(t *testing.T) {
		for _, c := range []struct {
			pod    Pod
			nodeIP string
		}{{a, "198.18.1.2"}, {b, "198.18.1.3"}} {
			// Felix programs the pod's endpoint and the masquerade rule
			// moments after the pod appears: retry for a while.
			deadline := time.Now().Add(convergeTimeout)
			for udpFromPod(ctx, l, c.pod.Key(), server, time.Second) != nil {
				if time.Now().After(deadline) {
					t.Fatalf("pod %s (%s) on %s cannot reach the external host %s with natOutgoing on", c.pod.Key(), c.pod.IP, c.pod.Node, server)
				}
			}
			got := seen.take()
			if len(got) == 0 || got[len(got)-1] != c.nodeIP {
				t.Errorf("external host saw pod %s (%s) on %s as %v, want the node's address %s", c.pod.Key(), c.pod.IP, c.pod.Node, got, c.nodeIP)
			}
		}
	})

	t.Run("WithoutNATOutgoingItSeesThePodAndCannotReply", func(t *testing.T) {
		calicoctl(t, ctx, l, "", "patch", "ippool", "default-ipv4-ippool", "-p", `{"spec":{"natOutgoing":false}}`)
		// Felix drops the masquerade for the pool; each probe uses a new
		// socket (a new conntrack entry), so an old NAT binding cannot
		// carry it.
		deadline := time.Now().Add(convergeTimeout)
		for {
			err := udpFromPod(ctx, l, "a", server, time.Second)
			got := seen.take()
			if err != nil && slices.Contains(got, a.IP) {
				break // the pod's address arrived, and no reply came back
			}
			if time.Now().After(deadline) {
				t.Fatalf("after natOutgoing=false: probe from %s got error %v, external host saw %v; want the pod's address %s and no reply (the fabric has no route to the pool)", a.IP, err, got, a.IP)
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	t.Run("NATOutgoingBackOn", func(t *testing.T) {
		calicoctl(t, ctx, l, "", "patch", "ippool", "default-ipv4-ippool", "-p", `{"spec":{"natOutgoing":true}}`)
		deadline := time.Now().Add(convergeTimeout)
		for udpFromPod(ctx, l, "b", server, time.Second) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("pod b cannot reach the external host %s after natOutgoing was turned back on", server)
			}
		}
		if got := seen.take(); len(got) == 0 || got[len(got)-1] != "198.18.1.3" {
			t.Errorf("external host saw %v after natOutgoing=true, want node-2's 198.18.1.3 last", got)
		}
	})
}
