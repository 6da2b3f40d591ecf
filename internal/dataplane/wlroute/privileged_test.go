package wlroute

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// routeTestNode is a node namespace with a manager programming it.
type routeTestNode struct {
	ns *testutil.Netns
	m  *Manager
}

func newRouteTestNode(t *testing.T) *routeTestNode {
	t.Helper()
	ns := testutil.NewNetns(t, "wlroute")
	return &routeTestNode{ns: ns, m: New(Config{Handle: ns.Netlink(t)})}
}

// veth adds a veth pair (both ends in the node namespace) and brings it up.
func (n *routeTestNode) veth(t *testing.T, name, peer string) {
	t.Helper()
	n.ns.IP(t, "link", "add", name, "type", "veth", "peer", "name", peer)
	n.ns.IP(t, "link", "set", name, "up")
	n.ns.IP(t, "link", "set", peer, "up")
}

func (n *routeTestNode) apply(t *testing.T, us ...calc.Update) {
	t.Helper()
	for _, u := range us {
		n.m.OnUpdate(u)
	}
	n.m.Resync()
	if err := n.m.Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// route returns `ip -d route show <dst>` (-d prints "proto boot" too).
func (n *routeTestNode) route(t *testing.T, dst string) string {
	t.Helper()
	if strings.Contains(dst, ":") {
		return strings.TrimSpace(n.ns.IP(t, "-d", "-6", "route", "show", dst))
	}
	return strings.TrimSpace(n.ns.IP(t, "-d", "route", "show", dst))
}

func wep(name, iface string, nets ...string) calc.WorkloadEndpointUpdate {
	ep := &calc.WorkloadEndpoint{InterfaceName: iface}
	for _, s := range nets {
		if strings.Contains(s, ":") {
			ep.IPv6Nets = append(ep.IPv6Nets, s)
		} else {
			ep.IPv4Nets = append(ep.IPv4Nets, s)
		}
	}
	return calc.WorkloadEndpointUpdate{ID: calc.WorkloadEndpointID{Namespace: "prod", Name: name}, Endpoint: ep}
}

// TestPrivilegedWorkloadRoutes walks the manager through the life of two
// endpoints in a namespace: routes programmed (proto boot, scope link),
// stale cali* routes kept until in-sync then removed, other interfaces
// never touched, a hand-deleted route restored as drift, an interface
// appearing after its endpoint, an endpoint removed, and the protocol
// following deviceRouteProtocol.
func TestPrivilegedWorkloadRoutes(t *testing.T) {
	testutil.RequireRoot(t)
	n := newRouteTestNode(t)
	n.veth(t, "calia", "pa")
	n.veth(t, "eth1", "peth1")
	n.ns.IP(t, "route", "add", "10.244.0.9/32", "dev", "calia", "scope", "link") // stale: no endpoint wants it
	n.ns.IP(t, "route", "add", "10.244.0.20/32", "dev", "eth1", "scope", "link") // not a workload interface

	type want struct{ dst, has, hasNot string }
	check := func(step string, ws ...want) {
		t.Helper()
		for _, w := range ws {
			got := n.route(t, w.dst)
			if w.has != "" && !strings.Contains(got, w.has) || w.has == "" && got != "" {
				t.Errorf("%s: route %s = %q, want it to contain %q", step, w.dst, got, w.has)
			}
			if w.hasNot != "" && strings.Contains(got, w.hasNot) {
				t.Errorf("%s: route %s = %q, must not contain %q", step, w.dst, got, w.hasNot)
			}
		}
	}

	// Before in-sync: add only.
	n.apply(t, wep("a", "calia", "10.244.0.5/32", "fd00:244::5/128"), wep("b", "calib", "10.244.0.6/32"))
	check("before in-sync",
		want{dst: "10.244.0.5/32", has: "dev calia proto boot scope link"},
		want{dst: "fd00:244::5/128", has: "dev calia proto boot"},
		want{dst: "10.244.0.6/32"}, // calib does not exist yet
		want{dst: "10.244.0.9/32", has: "dev calia"},
		want{dst: "10.244.0.20/32", has: "dev eth1"})

	// In sync: the stale cali* route goes; eth1's stays.
	n.apply(t, calc.InSync{})
	check("after in-sync", want{dst: "10.244.0.9/32"}, want{dst: "10.244.0.20/32", has: "dev eth1"},
		want{dst: "10.244.0.5/32", has: "dev calia"})

	// Drift: deleted by hand, restored by the next resync.
	n.ns.IP(t, "route", "del", "10.244.0.5/32", "dev", "calia")
	n.apply(t)
	check("after drift", want{dst: "10.244.0.5/32", has: "dev calia proto boot scope link"})
	if got := n.m.Stats().DriftRepairs; got != 1 {
		t.Errorf("DriftRepairs = %d, want 1", got)
	}

	// The interface appears after the endpoint.
	n.veth(t, "calib", "pb")
	n.apply(t)
	check("interface appeared", want{dst: "10.244.0.6/32", has: "dev calib proto boot scope link"})

	// Endpoint removed: its route goes.
	n.apply(t, calc.WorkloadEndpointRemove{ID: calc.WorkloadEndpointID{Namespace: "prod", Name: "b"}})
	check("endpoint removed", want{dst: "10.244.0.6/32"}, want{dst: "10.244.0.5/32", has: "dev calia"})

	// deviceRouteProtocol 80: routes are rewritten with it.
	p := 80
	n.apply(t, calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{DeviceRouteProtocol: &p}})
	check("deviceRouteProtocol 80",
		want{dst: "10.244.0.5/32", has: "proto 80", hasNot: "proto boot"},
		want{dst: "fd00:244::5/128", has: "proto 80"})
	if got := n.m.Stats().DriftRepairs; got != 1 {
		t.Errorf("a configured protocol change counted as drift: DriftRepairs = %d, want 1", got)
	}
}

// TestPrivilegedWorkloadRoutes_WatchKicks checks netlink change detection:
// a workload interface appearing and a workload route deleted each kick.
func TestPrivilegedWorkloadRoutes_WatchKicks(t *testing.T) {
	testutil.RequireRoot(t)
	n := newRouteTestNode(t)
	n.veth(t, "calia", "pa")
	n.ns.IP(t, "route", "add", "10.244.0.5/32", "dev", "calia", "scope", "link")

	kicks := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	subscribeIn(t, n.ns.Name, func() error {
		return n.m.Watch(ctx, func() { kicks <- struct{}{} })
	})
	drain := func() {
		for {
			select {
			case <-kicks:
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	expectKick := func(what string) {
		t.Helper()
		select {
		case <-kicks:
		case <-time.After(10 * time.Second):
			t.Fatalf("no kick after %s", what)
		}
	}
	drain() // ListExisting reports calia
	n.ns.IP(t, "route", "del", "10.244.0.5/32", "dev", "calia")
	expectKick("a workload route was deleted")
	drain()
	n.veth(t, "calib", "pb")
	expectKick("a workload interface appeared")
}

// subscribeIn runs fn on a thread switched into the named namespace.
func subscribeIn(t *testing.T, name string, fn func() error) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic("cannot return to the original network namespace: " + err.Error())
		}
	}()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
}
