package ipip

import (
	"context"
	"errors"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// requireIPIP skips when the kernel cannot create IPIP devices, naming the
// reason (this is expected on kernels built without the ipip module).
func requireIPIP(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrNoIPIPModule) {
		t.Skipf("kernel has no ipip module: %v", err)
	}
}

// TestPrivilegedManager_ConfiguresTunl0 runs the manager in a node
// namespace: an Always pool brings tunl0 up with the node's tunnel address
// and the parent's MTU − 20; switching the pool to Never removes the
// address again. Skips where the kernel has no ipip module.
func TestPrivilegedManager_ConfiguresTunl0(t *testing.T) {
	testutil.RequireRoot(t)
	node := testutil.NewNetns(t, "ipip")
	peer := testutil.NewNetns(t, "ipipp")
	testutil.Veth(t, node, "eth0", peer, "eth0")
	node.IP(t, "link", "set", "eth0", "mtu", "1400")
	node.IP(t, "addr", "add", "198.18.0.11/24", "dev", "eth0")

	m := New(Config{NodeName: "node-a", Handle: node.Netlink(t)})
	m.OnUpdate(calc.VTEPUpdate{VTEP: calc.VTEP{Node: "node-a", ParentIPv4: "198.18.0.11", IPIPv4Addr: "10.244.0.1"}})
	m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeAlways}})
	err := m.Apply(context.Background())
	requireIPIP(t, err)
	if err != nil {
		t.Fatal(err)
	}
	out := node.IP(t, "-d", "addr", "show", "dev", DeviceName)
	for _, want := range []string{"mtu 1380", "ipip", "inet 10.244.0.1/32"} {
		if !strings.Contains(out, want) {
			t.Errorf("tunl0 lacks %q:\n%s", want, out)
		}
	}
	m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeNever}})
	if err := m.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := node.IP(t, "addr", "show", "dev", DeviceName); strings.Contains(out, "10.244.0.1") {
		t.Errorf("tunnel address left on tunl0 after the pool went to Never:\n%s", out)
	}
}

// TestPrivilegedManager_NoIPIPModuleIsReported checks the error path this
// kernel takes: without ipip support Apply fails with ErrNoIPIPModule and a
// message saying what to do (skipped where ipip works).
func TestPrivilegedManager_NoIPIPModuleIsReported(t *testing.T) {
	testutil.RequireRoot(t)
	node := testutil.NewNetns(t, "ipipno")
	m := New(Config{NodeName: "node-a", Handle: node.Netlink(t)})
	m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeAlways}})
	err := m.Apply(context.Background())
	if err == nil {
		t.Skip("this kernel has ipip; the no-module path cannot be exercised here")
	}
	if !errors.Is(err, ErrNoIPIPModule) || !strings.Contains(err.Error(), "modprobe ipip") {
		t.Errorf("Apply: %v; want ErrNoIPIPModule with the fix", err)
	}
	// Nothing to do when no pool uses IPIP: no error on such kernels.
	m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeNever}})
	if err := m.Apply(context.Background()); err != nil {
		t.Errorf("Apply without IPIP pools: %v", err)
	}
}
