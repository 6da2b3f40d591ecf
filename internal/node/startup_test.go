package node

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// hostIfaces is a node with one NIC on the fabric and a docker bridge.
func hostIfaces() []autodetect.Interface {
	return []autodetect.Interface{
		{Name: "lo", Index: 1, MTU: 65536, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Index: 2, MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.2/24")}},
		{Name: "docker0", Index: 3, MTU: 1500, Addrs: []netip.Prefix{netip.MustParsePrefix("172.17.0.1/16")}},
	}
}

func testDeps(ifaces []autodetect.Interface) Deps {
	return Deps{
		Interfaces: func() ([]autodetect.Interface, error) { return ifaces, nil },
		Reach: func(string, autodetect.Family) (netip.Addr, error) {
			return netip.Addr{}, errors.New("no reach in unit tests")
		},
		IPv6Supported: func() bool { return false },
		Logger:        slog.New(slog.DiscardHandler),
	}
}

// testConfig loads a Config from env with the files in a temp dir.
func testConfig(t *testing.T, env ...string) *Config {
	t.Helper()
	env = append([]string{EnvVarLibDir + "=" + t.TempDir()}, env...)
	cfg, err := LoadConfig(env, func() (string, error) { return "ignored-host", nil })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkFirstStartup runs startup for a VXLAN cluster and checks what a user
// would see, then runs it again and checks nothing changed.
func checkFirstStartup(t *testing.T, c *client.Client) {
	ctx := context.Background()
	cfg := testConfig(t, "NODENAME=Node-1", "CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=Always",
		"AS=64512", "CLUSTER_TYPE=k8s,bgp")
	res, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	n := res.Node
	if n.Name != "node-1" || n.Spec.BGP == nil || n.Spec.BGP.IPv4Address != "198.18.0.2/24" || n.Spec.BGP.ASNumber == nil || n.Spec.BGP.ASNumber.String() != "64512" {
		t.Fatalf("node = %+v / bgp %+v", n.ObjectMeta, n.Spec.BGP)
	}
	if len(res.CreatedPools) != 1 || res.CreatedPools[0] != DefaultIPv4PoolName {
		t.Fatalf("created pools %v", res.CreatedPools)
	}
	pool, err := client.Get[*v3.IPPool](ctx, c, "", DefaultIPv4PoolName)
	if err != nil {
		t.Fatal(err)
	}
	if pool.Spec.CIDR != "10.244.0.0/16" || pool.Spec.VXLANMode != v3.VXLANModeAlways || pool.Spec.IPIPMode != v3.IPIPModeNever || !pool.Spec.NATOutgoing || pool.Spec.BlockSize != 26 {
		t.Fatalf("pool spec %+v", pool.Spec)
	}
	vtep := netip.MustParseAddr(n.Spec.IPv4VXLANTunnelAddr)
	if !netip.MustParsePrefix("10.244.0.0/16").Contains(vtep) || n.Spec.VXLANTunnelMACAddr == "" {
		t.Fatalf("vxlan tunnel %q mac %q", n.Spec.IPv4VXLANTunnelAddr, n.Spec.VXLANTunnelMACAddr)
	}
	im := ipam.New(c.Backend(), ipam.Options{})
	alloc, err := im.GetAssignmentAttributes(ctx, vtep)
	if err != nil || alloc.Handle != "vxlan-tunnel-addr-node-1" || alloc.Attrs["type"] != "vxlanTunnelAddress" {
		t.Fatalf("allocation of %s: %+v, %v", vtep, alloc, err)
	}
	ci, err := client.Get[*v3.ClusterInformation](ctx, c, "", "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Spec.ClusterGUID) != 32 || ci.Spec.ClusterType != "k8s,bgp" || ci.Spec.CalicoVersion != Version || ci.Spec.DatastoreReady == nil || !*ci.Spec.DatastoreReady {
		t.Fatalf("cluster information %+v", ci.Spec)
	}
	if fc, err := client.Get[*v3.FelixConfiguration](ctx, c, "", "node.node-1"); err != nil || fc.Spec.DefaultEndpointToHostAction != "Return" {
		t.Fatalf("felix node config %+v, %v", fc, err)
	}
	if got := readFile(t, cfg.MTUFile()); got != "1450" || res.MTUInterface != "eth0" {
		t.Fatalf("mtu file %q from %q, want 1450 from eth0", got, res.MTUInterface)
	}
	if got := readFile(t, cfg.NodenameFile()); got != "node-1" {
		t.Fatalf("nodename file %q", got)
	}

	// A restart changes nothing: same node revision, no new pool, same VTEP.
	res2, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.CreatedPools) != 0 || res2.Node.ResourceVersion != n.ResourceVersion || res2.Node.Spec.IPv4VXLANTunnelAddr != vtep.String() {
		t.Fatalf("second startup changed things: pools %v, rev %s→%s, vtep %s", res2.CreatedPools, n.ResourceVersion, res2.Node.ResourceVersion, res2.Node.Spec.IPv4VXLANTunnelAddr)
	}
	ci2, _ := client.Get[*v3.ClusterInformation](ctx, c, "", "default")
	if ci2.ResourceVersion != ci.ResourceVersion {
		t.Fatal("second startup rewrote ClusterInformation")
	}
}

func TestStartup_RegistersNodeOnceAndIsIdempotent(t *testing.T) {
	checkFirstStartup(t, client.New(memory.New()))
}

func TestStartup_PreservesLabelsAndUserFields(t *testing.T) {
	ctx := context.Background()
	c := client.New(memory.New())
	n := v3.NewNode()
	n.Name = "node-1"
	n.Labels = map[string]string{"rack": "r1"}
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.99/24", RouteReflectorClusterID: "224.0.0.1"}
	if _, err := c.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, "NODENAME=node-1", "IP=autodetect", "NO_DEFAULT_POOLS=true")
	res, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	got := res.Node
	if got.Labels["rack"] != "r1" || got.Spec.BGP.RouteReflectorClusterID != "224.0.0.1" || got.Spec.BGP.IPv4Address != "198.18.0.2/24" {
		t.Fatalf("node after startup: labels %v bgp %+v", got.Labels, got.Spec.BGP)
	}
	if len(res.CreatedPools) != 0 {
		t.Fatalf("NO_DEFAULT_POOLS created %v", res.CreatedPools)
	}
}

func TestStartup_KeepsStoredAddressWhenIPUnset(t *testing.T) {
	ctx := context.Background()
	c := client.New(memory.New())
	n := v3.NewNode()
	n.Name = "node-1"
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.2/16"}
	if _, err := c.Create(ctx, n); err != nil {
		t.Fatal(err)
	}
	res, err := Startup(ctx, c, testConfig(t, "NODENAME=node-1"), testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Node.Spec.BGP.IPv4Address != "198.18.0.2/16" {
		t.Fatalf("address %s, want the stored one kept", res.Node.Spec.BGP.IPv4Address)
	}
}

func TestStartup_DefaultPoolOnlyWhenNoPoolOfTheFamily(t *testing.T) {
	ctx := context.Background()
	c := client.New(memory.New())
	p := v3.NewIPPool()
	p.Name = "mine"
	p.Spec.CIDR = "10.10.0.0/16"
	if _, err := c.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	res, err := Startup(ctx, c, testConfig(t, "NODENAME=node-1"), testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.CreatedPools) != 0 {
		t.Fatalf("created %v although pool mine exists", res.CreatedPools)
	}
	if res.Node.Spec.IPv4VXLANTunnelAddr != "" || res.Node.Spec.BGP.IPv4IPIPTunnelAddr != "" {
		t.Fatalf("tunnel addresses without an encapsulated pool: %+v", res.Node.Spec)
	}
}

func TestStartup_DefaultIPv4PoolAvoidsHostNetwork(t *testing.T) {
	ctx := context.Background()
	c := client.New(memory.New())
	ifaces := append(hostIfaces(), autodetect.Interface{Name: "eth1", Index: 4, MTU: 1500,
		Addrs: []netip.Prefix{netip.MustParsePrefix("192.168.1.5/24")}})
	ifaces = append(ifaces, autodetect.Interface{Name: "eth2", Index: 5, MTU: 1500,
		Addrs: []netip.Prefix{netip.MustParsePrefix("172.16.3.5/24")}})
	if _, err := Startup(ctx, c, testConfig(t, "NODENAME=node-1", "IP=198.18.0.2"), testDeps(ifaces)); err != nil {
		t.Fatal(err)
	}
	pool, err := client.Get[*v3.IPPool](ctx, c, "", DefaultIPv4PoolName)
	if err != nil || pool.Spec.CIDR != "172.18.0.0/16" {
		t.Fatalf("pool %v, %v; want 172.18.0.0/16, the first 172.x/16 no host address is in", pool, err)
	}
}

func TestStartup_ExplicitIPTakesInterfacePrefix(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ ip, want string }{
		{"198.18.0.2", "198.18.0.2/24"},
		{"198.18.0.2/16", "198.18.0.2/16"},
		{"203.0.113.7", "203.0.113.7/32"}, // not on the host: a warning, used as given
	} {
		c := client.New(memory.New())
		res, err := Startup(ctx, c, testConfig(t, "NODENAME=node-1", "IP="+tc.ip, "NO_DEFAULT_POOLS=true"), testDeps(hostIfaces()))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Node.Spec.BGP.IPv4Address; got != tc.want {
			t.Errorf("IP=%s → %s, want %s", tc.ip, got, tc.want)
		}
	}
}

func TestStartup_FailsClearly(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		env   []string
		setup func(c *client.Client)
		want  string
	}{
		{"autodetection finds nothing", []string{"IP_AUTODETECTION_METHOD=interface=wlan0"}, nil, "IP=autodetect: autodetect IPv4 with interface=wlan0"},
		{"kubernetes-internal-ip", []string{"IP_AUTODETECTION_METHOD=kubernetes-internal-ip"}, nil, "no IPv4 InternalIP on the Kubernetes Node"},
		{"no address at all", []string{"IP=none"}, nil, "no IPv4 or IPv6 address configured or detected"},
		{"address used by another node", nil, func(c *client.Client) {
			n := v3.NewNode()
			n.Name = "node-2"
			n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.2/24"}
			if _, err := c.Create(ctx, n); err != nil {
				t.Fatal(err)
			}
		}, `IPv4 address 198.18.0.2 is already used by node "node-2"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := client.New(memory.New())
			if tc.setup != nil {
				tc.setup(c)
			}
			_, err := Startup(ctx, c, testConfig(t, append([]string{"NODENAME=node-1"}, tc.env...)...), testDeps(hostIfaces()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStartup_PolicyOnlyWritesNoAddresses(t *testing.T) {
	res, err := Startup(context.Background(), client.New(memory.New()),
		testConfig(t, "NODENAME=node-1", "CALICO_NETWORKING_BACKEND=none", "IP=none"), testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Node.Spec.BGP != nil {
		t.Fatalf("policy-only node has BGP spec %+v", res.Node.Spec.BGP)
	}
}

func TestReconcileTunnelAddrs_FollowsPoolModes(t *testing.T) {
	ctx := context.Background()
	c := client.New(memory.New())
	cfg := testConfig(t, "NODENAME=node-1", "CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=CrossSubnet")
	res, err := Startup(ctx, c, cfg, testDeps(hostIfaces()))
	if err != nil {
		t.Fatal(err)
	}
	mac := res.Node.Spec.VXLANTunnelMACAddr
	im := ipam.New(c.Backend(), ipam.Options{})
	log := slog.New(slog.DiscardHandler)
	setModes := func(ipip v3.IPIPMode, vxlan v3.VXLANMode) {
		t.Helper()
		p, err := client.Get[*v3.IPPool](ctx, c, "", DefaultIPv4PoolName)
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.IPIPMode, p.Spec.VXLANMode = ipip, vxlan
		if _, err := c.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	// VXLAN off, IPIP on: the VTEP is released, an IPIP address appears.
	setModes(v3.IPIPModeAlways, v3.VXLANModeNever)
	n, err := ReconcileTunnelAddrs(ctx, c, im, "node-1", log)
	if err != nil {
		t.Fatal(err)
	}
	if n.Spec.IPv4VXLANTunnelAddr != "" || n.Spec.VXLANTunnelMACAddr != "" || n.Spec.BGP.IPv4IPIPTunnelAddr == "" {
		t.Fatalf("after switching to IPIP: %+v bgp %+v", n.Spec, n.Spec.BGP)
	}
	if ips, _ := im.IPsByHandle(ctx, "vxlan-tunnel-addr-node-1"); len(ips) != 0 {
		t.Fatalf("vxlan handle still holds %v", ips)
	}
	// Back to VXLAN: the MAC is derived again, identically.
	setModes(v3.IPIPModeNever, v3.VXLANModeAlways)
	n, err = ReconcileTunnelAddrs(ctx, c, im, "node-1", log)
	if err != nil {
		t.Fatal(err)
	}
	if n.Spec.BGP.IPv4IPIPTunnelAddr != "" || n.Spec.IPv4VXLANTunnelAddr == "" || n.Spec.VXLANTunnelMACAddr != mac {
		t.Fatalf("after switching back: %+v (mac %s, want %s)", n.Spec, n.Spec.VXLANTunnelMACAddr, mac)
	}
	if ips, _ := im.IPsByHandle(ctx, "ipip-tunnel-addr-node-1"); len(ips) != 0 {
		t.Fatalf("ipip handle still holds %v", ips)
	}
	// Someone edits the node's VTEP to an address outside the pool: replaced.
	n.Spec.IPv4VXLANTunnelAddr = "10.9.9.9"
	if _, err := c.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	n, err = ReconcileTunnelAddrs(ctx, c, im, "node-1", log)
	if err != nil {
		t.Fatal(err)
	}
	if a := netip.MustParseAddr(n.Spec.IPv4VXLANTunnelAddr); !netip.MustParsePrefix("10.244.0.0/16").Contains(a) {
		t.Fatalf("vtep %s not replaced", a)
	}
	if ips, _ := im.IPsByHandle(ctx, "vxlan-tunnel-addr-node-1"); len(ips) != 1 {
		t.Fatalf("vxlan handle holds %v, want exactly one address", ips)
	}
}
