package vxlan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testNode is one fake node: a network namespace (never the root one) with
// a veth end on 198.18.0.0/24, a pod-like /32 on a dummy interface and a
// Manager programming it through a netlink handle opened in the namespace.
type testNode struct {
	name, ns         string
	nodeIP, tunnelIP string
	mac, block, pod  string
	podNS            string
	h                *netlink.Handle
	m                *Manager
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newTestNode(t *testing.T, n *testNode) {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n.ns = "tcvx-" + n.name + "-" + hex.EncodeToString(b)
	sh(t, "ip", "netns", "add", n.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.ns).Run() })
	sh(t, "ip", "-n", n.ns, "link", "set", "lo", "up")
	sh(t, "ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
	sh(t, "ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// The pod: its own namespace wired as Calico wires one (design §5).
	pod := n.ns + "-pod"
	sh(t, "ip", "netns", "add", pod)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", pod).Run() })
	sh(t, "ip", "-n", n.ns, "link", "add", "cali0", "type", "veth", "peer", "name", "eth0", "netns", pod)
	sh(t, "ip", "-n", n.ns, "link", "set", "cali0", "address", "ee:ee:ee:ee:ee:ee", "up")
	sh(t, "ip", "netns", "exec", n.ns, "sysctl", "-qw", "net.ipv4.conf.cali0.proxy_arp=1")
	sh(t, "ip", "-n", n.ns, "route", "add", n.pod+"/32", "dev", "cali0", "scope", "link")
	sh(t, "ip", "-n", pod, "link", "set", "lo", "up")
	sh(t, "ip", "-n", pod, "addr", "add", n.pod+"/32", "dev", "eth0")
	sh(t, "ip", "-n", pod, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", pod, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
	sh(t, "ip", "-n", pod, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
	n.podNS = pod
	h, err := netns.GetFromPath("/run/netns/" + n.ns)
	if err != nil {
		t.Fatalf("opening namespace %s: %v", n.ns, err)
	}
	t.Cleanup(func() { h.Close() })
	if n.h, err = netlink.NewHandleAt(h); err != nil {
		t.Fatalf("netlink handle in %s: %v", n.ns, err)
	}
	t.Cleanup(n.h.Close)
	n.m = New(Config{NodeName: n.name, Handle: n.h})
}

func TestPrivilegedManager_TwoNodesPingOverVXLAN(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s creates network namespaces and VXLAN devices", t.Name())
	}
	a := &testNode{name: "a", nodeIP: "198.18.0.1", tunnelIP: "10.65.0.1", mac: "66:aa:00:00:00:01", block: "10.65.0.0/26", pod: "10.65.0.2"}
	b := &testNode{name: "b", nodeIP: "198.18.0.2", tunnelIP: "10.65.1.1", mac: "66:bb:00:00:00:02", block: "10.65.1.0/26", pod: "10.65.1.2"}
	newTestNode(t, a)
	newTestNode(t, b)
	sh(t, "ip", "-n", a.ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b.ns)
	for _, n := range []*testNode{a, b} {
		sh(t, "ip", "-n", n.ns, "addr", "add", n.nodeIP+"/24", "dev", "eth0")
		sh(t, "ip", "-n", n.ns, "link", "set", "eth0", "up")
		// A default route, as every real node has: proxy ARP on cali0 only
		// answers for 169.254.1.1 when the node can route it elsewhere.
		sh(t, "ip", "-n", n.ns, "route", "add", "default", "dev", "eth0")
	}
	pool := calc.Pool{CIDR: "10.65.0.0/16", VXLANMode: v3.VXLANModeAlways, IPIPMode: v3.IPIPModeNever}
	feed := func(n *testNode) {
		ups := []calc.Update{calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{}}, calc.IPPoolUpdate{Name: "default", Pool: pool}}
		for _, o := range []*testNode{a, b} {
			typ := calc.RouteRemoteBlock
			if o == n {
				typ = calc.RouteLocalBlock
			}
			p := pool
			ups = append(ups,
				calc.VTEPUpdate{VTEP: calc.VTEP{Node: o.name, IPv4Addr: o.tunnelIP, MAC: o.mac, ParentIPv4: o.nodeIP}},
				calc.RouteUpdate{Route: calc.Route{Dst: o.block, Type: typ, Node: o.name, NodeIP: o.nodeIP, SameSubnet: true, Pool: &p}})
		}
		for _, u := range ups {
			n.m.OnUpdate(u)
		}
		if err := n.m.Apply(context.Background()); err != nil {
			t.Fatalf("node %s: Apply: %v", n.name, err)
		}
	}
	feed(a)
	feed(b)

	t.Run("DeviceNeighbourFDBRoute", func(t *testing.T) {
		l, err := a.h.LinkByName(DeviceName)
		if err != nil {
			t.Fatalf("node a: %s missing: %v", DeviceName, err)
		}
		vx, ok := l.(*netlink.Vxlan)
		if !ok || vx.VxlanId != 4096 || vx.Port != 4789 || vx.SrcAddr.String() != a.nodeIP || vx.Learning ||
			vx.HardwareAddr.String() != a.mac || vx.MTU != 1500-50 || vx.Flags&net.FlagUp == 0 {
			t.Fatalf("node a: device = %+v, want VNI 4096 port 4789 local %s nolearning MAC %s MTU 1450 up", l, a.nodeIP, a.mac)
		}
		addrs, _ := a.h.AddrList(l, unix.AF_INET)
		if len(addrs) != 1 || addrs[0].IPNet.String() != a.tunnelIP+"/32" {
			t.Fatalf("node a: addresses = %v, want %s/32", addrs, a.tunnelIP)
		}
		neighs, _ := a.h.NeighList(l.Attrs().Index, unix.AF_INET)
		if len(neighs) != 1 || neighs[0].IP.String() != b.tunnelIP || neighs[0].HardwareAddr.String() != b.mac || neighs[0].State&netlink.NUD_PERMANENT == 0 {
			t.Fatalf("node a: neighbours = %+v, want %s lladdr %s permanent", neighs, b.tunnelIP, b.mac)
		}
		fdb, _ := a.h.NeighList(l.Attrs().Index, unix.AF_BRIDGE)
		found := false
		for _, f := range fdb {
			found = found || (f.HardwareAddr.String() == b.mac && f.IP.String() == b.nodeIP)
		}
		if !found {
			t.Fatalf("node a: FDB = %+v, want %s dst %s", fdb, b.mac, b.nodeIP)
		}
		out := sh(t, "ip", "-n", a.ns, "route", "show", "proto", "80")
		want := b.block + " via " + b.tunnelIP + " dev " + DeviceName + " onlink"
		if !strings.Contains(out, want) || strings.Contains(out, a.block) {
			t.Fatalf("node a: proto 80 routes =\n%s\nwant only %q", out, want)
		}
	})

	t.Run("PodsPingAcrossTunnel", func(t *testing.T) {
		sh(t, "ip", "netns", "exec", a.podNS, "ping", "-c", "2", "-W", "2", b.pod)
		sh(t, "ip", "netns", "exec", b.podNS, "ping", "-c", "2", "-W", "2", a.pod)
		sh(t, "ip", "netns", "exec", b.ns, "ping", "-c", "2", "-W", "2", "-I", b.tunnelIP, a.tunnelIP)
	})

	t.Run("ReapplyIsIdempotentAndRepairs", func(t *testing.T) {
		sh(t, "ip", "-n", a.ns, "route", "del", b.block)
		a.m.Resync()
		if err := a.m.Apply(context.Background()); err != nil {
			t.Fatalf("node a: Apply after resync: %v", err)
		}
		out := sh(t, "ip", "-n", a.ns, "route", "show", "proto", "80")
		if !strings.Contains(out, b.block+" via "+b.tunnelIP) {
			t.Fatalf("node a: route to %s not repaired:\n%s", b.block, out)
		}
	})

	t.Run("RemoteVTEPRemovedCleansUp", func(t *testing.T) {
		a.m.OnUpdate(calc.VTEPRemove{Node: "b"})
		if err := a.m.Apply(context.Background()); err != nil {
			t.Fatalf("node a: Apply: %v", err)
		}
		if out := sh(t, "ip", "-n", a.ns, "route", "show", "proto", "80"); strings.TrimSpace(out) != "" {
			t.Fatalf("node a: proto 80 routes left after b's VTEP went:\n%s", out)
		}
		if out := sh(t, "ip", "-n", a.ns, "neigh", "show", "dev", DeviceName); strings.Contains(out, b.tunnelIP) {
			t.Fatalf("node a: neighbour for %s left:\n%s", b.tunnelIP, out)
		}
		if out := sh(t, "bridge", "-n", a.ns, "fdb", "show", "dev", DeviceName); strings.Contains(out, b.mac) {
			t.Fatalf("node a: FDB entry for %s left:\n%s", b.mac, out)
		}
	})

	t.Run("PoolGoneRemovesDevice", func(t *testing.T) {
		a.m.OnUpdate(calc.IPPoolRemove{Name: "default"})
		if err := a.m.Apply(context.Background()); err != nil {
			t.Fatalf("node a: Apply: %v", err)
		}
		if _, err := a.h.LinkByName(DeviceName); err == nil {
			t.Fatalf("node a: %s still present with no VXLAN pool", DeviceName)
		}
	})
}
