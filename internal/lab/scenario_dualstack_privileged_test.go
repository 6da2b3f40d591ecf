package lab

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// webDeniesPort8080 is a NetworkPolicy a user would write to close one port
// of the web pods: TCP to 8080 is denied, everything else allowed (the
// final Allow keeps the tier's default deny away from other traffic). It
// names no address family, so it must hold for IPv4 and IPv6 alike.
const webDeniesPort8080 = `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web-deny-8080
  namespace: default
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - action: Deny
    protocol: TCP
    destination:
      ports: [8080]
  - action: Allow
`

// TestPrivilegedScenario_DualStackPodsTalkOverIPv6AcrossNodesUnderPolicy: a
// dual-stack lab (ipv6: true: IPv6 on the fabric, calico-node with
// IP6=autodetect, CALICO_IPV6POOL_CIDR and FELIX_IPV6SUPPORT=true, the CNI
// plugin with assign_ipv6) of two nodes on one subnet in a BGP mesh. Nodes
// register both addresses, pods get one address of each family, each node
// learns the other's IPv6 block over BGP (proto bird, via the peer's IPv6
// address), pods reach each other over IPv6 (ICMPv6, TCP, UDP) as over
// IPv4, and a NetworkPolicy closing TCP 8080 of the web pod is enforced on
// both families while its other ports stay open.
func TestPrivilegedScenario_DualStackPodsTalkOverIPv6AcrossNodesUnderPolicy(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets: []Subnet{{Name: "rack-a", CIDR: "198.18.1.0/24"}},
		Nodes:   []Node{{Name: "node-1", Subnet: "rack-a"}, {Name: "node-2", Subnet: "rack-a"}},
		Backend: "bird",
		IPv6:    true,
		Pods: []PodSpec{
			{Name: "client", Node: "node-1", Labels: map[string]string{"app": "client"}},
			{Name: "web", Node: "node-2", Labels: map[string]string{"app": "web"}},
			{Name: "neighbour", Node: "node-2", Labels: map[string]string{"app": "client"}},
		},
	}
	// Registered before upLab, so it runs after the lab's Down.
	before := snapshotRoot(t)
	t.Cleanup(func() { assertNoLabTraceInRoot(t, before, "dual-stack lab up and down") })
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client1, _ := l.Pod("client")
	web, _ := l.Pod("web")
	pool6 := netip.MustParsePrefix(DefaultPool6CIDR)

	t.Run("NodesAndPodsHaveBothFamilies", func(t *testing.T) {
		c, closeC, err := l.Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer closeC()
		// IP6=autodetect found each node's IPv6 fabric address.
		for _, n := range topo.Nodes {
			node, err := client.Get[*v3.Node](ctx, c, "", n.Name)
			if err != nil {
				t.Fatal(err)
			}
			want4, want6 := n.Address+"/24", Address6(n.Address)+"/120"
			if b := node.Spec.BGP; b == nil || b.IPv4Address != want4 || b.IPv6Address != want6 {
				t.Errorf("Node %s: spec.bgp %+v, want ipv4Address %s and ipv6Address %s", n.Name, b, want4, want6)
			}
		}
		ipv6Pool, err := client.Get[*v3.IPPool](ctx, c, "", "default-ipv6-ippool")
		if err != nil {
			t.Fatalf("no default IPv6 pool (CALICO_IPV6POOL_CIDR): %v", err)
		}
		if ipv6Pool.Spec.CIDR != DefaultPool6CIDR || ipv6Pool.Spec.BlockSize != 122 {
			t.Errorf("default-ipv6-ippool: cidr %s, blockSize %d; want %s, 122", ipv6Pool.Spec.CIDR, ipv6Pool.Spec.BlockSize, DefaultPool6CIDR)
		}
		weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, c, "default")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Pods() {
			a6, err := netip.ParseAddr(p.IP6)
			if err != nil || !pool6.Contains(a6) {
				t.Errorf("pod %s: IPv6 address %q, want one in %s", p.Key(), p.IP6, pool6)
			}
			want := []string{p.IP + "/32", p.IP6 + "/128"}
			i := slices.IndexFunc(weps, func(w *v3.WorkloadEndpoint) bool { return w.Spec.Pod == p.Name })
			if i < 0 {
				t.Errorf("no WorkloadEndpoint for pod %s", p.Key())
			} else if got := slices.Sorted(slices.Values(weps[i].Spec.IPNetworks)); !slices.Equal(got, want) {
				t.Errorf("WorkloadEndpoint of pod %s: ipNetworks %v, want %v", p.Key(), got, want)
			}
		}
	})

	t.Run("IPv6BlocksAreLearnedOverBGP", func(t *testing.T) {
		// Each node routes the other's IPv6 block via the peer's IPv6
		// fabric address, installed by BGP (proto bird), next to the
		// IPv4 block learned the same way.
		waitRoute6(t, ctx, l, "node-1", web, "/122 via "+Address6("198.18.1.3")+" dev eth0", "proto bird")
		waitRoute6(t, ctx, l, "node-2", client1, "/122 via "+Address6("198.18.1.2")+" dev eth0", "proto bird")
		waitRoute(t, ctx, l, "node-1", web, "via 198.18.1.3 dev eth0", "proto bird")
		waitRoute(t, ctx, l, "node-2", client1, "via 198.18.1.2 dev eth0", "proto bird")
	})

	t.Run("PodsReachEachOtherOverIPv6AndIPv4", func(t *testing.T) {
		for _, ipv6 := range []bool{true, false} {
			for _, proto := range []string{ProtoICMP, ProtoTCP, ProtoUDP} {
				expectMatrixWith(t, ctx, l, MatrixOptions{Proto: proto, IPv6: ipv6}, allReach, convergeTimeout)
			}
		}
		if err := l.Ping6(ctx, "client", "web", time.Second); err != nil {
			t.Errorf("ICMPv6 echo client (node-1) → web (node-2): %v", err)
		}
	})

	t.Run("PolicyIsEnforcedOverBothFamilies", func(t *testing.T) {
		calicoctl(t, ctx, l, webDeniesPort8080, "apply", "-f", "-")
		closed := func(from, to Pod) bool { return to.Labels["app"] != "web" }
		for _, ipv6 := range []bool{true, false} {
			m := expectMatrixWith(t, ctx, l, MatrixOptions{Proto: ProtoTCP, Port: 8080, IPv6: ipv6}, closed, convergeTimeout)
			t.Logf("TCP 8080, IPv6 %v, web-deny-8080 applied:\n%s", ipv6, m)
			// Only the port is closed: another port and ICMP still pass.
			expectMatrixWith(t, ctx, l, MatrixOptions{Proto: ProtoTCP, Port: 8081, IPv6: ipv6}, allReach, 0)
			expectMatrixWith(t, ctx, l, MatrixOptions{Proto: ProtoICMP, IPv6: ipv6}, allReach, 0)
		}
	})
}
