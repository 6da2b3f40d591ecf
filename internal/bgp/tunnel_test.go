package bgp

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

func ipipPool(name, cidr string, mode v3.IPIPMode) v3.IPPool {
	p := pool(name, cidr, false)
	p.Spec.IPIPMode = mode
	return p
}

func TestTunnelPolicy_OverIPIP(t *testing.T) {
	pools := []v3.IPPool{
		ipipPool("always", "10.244.0.0/16", v3.IPIPModeAlways),
		ipipPool("cross", "10.245.0.0/16", v3.IPIPModeCrossSubnet),
		ipipPool("never", "10.246.0.0/16", v3.IPIPModeNever),
		ipipPool("v6", "fd00:244::/64", v3.IPIPModeAlways),
	}
	tp := tunnelPolicy(pools, "198.18.0.11/24")
	want := TunnelPolicy{LocalSubnet: netip.MustParsePrefix("198.18.0.0/24"), IPIPPools: []IPIPPool{
		{CIDR: netip.MustParsePrefix("10.244.0.0/16")},
		{CIDR: netip.MustParsePrefix("10.245.0.0/16"), CrossSubnet: true},
	}}
	if !reflect.DeepEqual(tp, want) {
		t.Fatalf("tunnelPolicy = %+v, want %+v", tp, want)
	}
	tests := []struct {
		dst, via string
		want     bool
	}{
		{"10.244.1.0/26", "198.18.0.12", true},  // Always, same subnet
		{"10.244.1.0/26", "198.18.1.12", true},  // Always, other subnet
		{"10.245.1.0/26", "198.18.0.12", false}, // CrossSubnet, same subnet: plain
		{"10.245.1.0/26", "198.18.1.12", true},  // CrossSubnet, other subnet: tunnel
		{"10.246.1.0/26", "198.18.1.12", false}, // Never
		{"10.250.0.0/24", "198.18.1.12", false}, // no pool (e.g. a ToR's prefix)
		{"10.0.0.0/8", "198.18.1.12", false},    // wider than the pool
		{"10.244.0.5/32", "198.18.1.12", true},  // a borrowed /32 in an IPIP pool
		{"fd00:244::/80", "198.18.1.12", false}, // IPv6 never
	}
	for _, tc := range tests {
		if got := tp.OverIPIP(netip.MustParsePrefix(tc.dst), netip.MustParseAddr(tc.via)); got != tc.want {
			t.Errorf("OverIPIP(%s via %s) = %v, want %v", tc.dst, tc.via, got, tc.want)
		}
	}
	if bare := tunnelPolicy(nil, "198.18.0.11"); bare.LocalSubnet != netip.MustParsePrefix("198.18.0.11/32") {
		t.Errorf("bare address: subnet %s", bare.LocalSubnet)
	}
}

func TestCompute_TunnelPolicyFromPools(t *testing.T) {
	st := &State{Nodes: []v3.Node{node("node-a", "198.18.0.11/24", nil)},
		IPPools: []v3.IPPool{ipipPool("default", "10.244.0.0/16", v3.IPIPModeCrossSubnet)}}
	d := mustCompute(t, "node-a", st, nil)
	want := TunnelPolicy{LocalSubnet: netip.MustParsePrefix("198.18.0.0/24"),
		IPIPPools: []IPIPPool{{CIDR: netip.MustParsePrefix("10.244.0.0/16"), CrossSubnet: true}}}
	if !reflect.DeepEqual(d.Tunnels, want) {
		t.Errorf("Tunnels = %+v, want %+v", d.Tunnels, want)
	}
}

// TestRouteInstaller_IPIPRoutesGoOverTunl0: routes of an IPIP pool are
// installed `via <node> dev tunl0 onlink`; a pool mode change replaces
// them in place; without tunl0 they go in plain (and move onto the tunnel
// once it appears).
func TestRouteInstaller_IPIPRoutesGoOverTunl0(t *testing.T) {
	f := &fakeRoutes{}
	tunl0 := 0 // index; 0: not present
	ri := NewRouteInstaller(f, testLogger())
	ri.LinkIndex = func(name string) (int, error) {
		if name != IPIPDevice || tunl0 == 0 {
			return 0, netlink.LinkNotFoundError{}
		}
		return tunl0, nil
	}
	always := tunnelPolicy([]v3.IPPool{ipipPool("p", "10.244.0.0/16", v3.IPIPModeAlways)}, "198.18.0.11/24")
	never := tunnelPolicy([]v3.IPPool{ipipPool("p", "10.244.0.0/16", v3.IPIPModeNever)}, "198.18.0.11/24")
	ri.OnBestPaths([]LearnedRoute{
		{Prefix: netip.MustParsePrefix("10.244.1.0/26"), NextHop: netip.MustParseAddr("198.18.0.12")},
		{Prefix: netip.MustParsePrefix("10.250.0.0/24"), NextHop: netip.MustParseAddr("198.18.0.1")},
	})
	step := func(what string, want ...string) {
		t.Helper()
		if err := ri.Apply(); err != nil {
			t.Fatal(err)
		}
		if got := f.show(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %q\n want %q", what, got, want)
		}
	}
	ri.SetTunnels(always)
	step("no tunl0 yet: plain", "10.244.1.0/26 via 198.18.0.12 proto bird", "10.250.0.0/24 via 198.18.0.1 proto bird")
	tunl0 = 7
	step("tunl0 appeared", "10.244.1.0/26 via 198.18.0.12 dev#7 onlink proto bird", "10.250.0.0/24 via 198.18.0.1 proto bird")
	f.ops = nil
	step("stable", "10.244.1.0/26 via 198.18.0.12 dev#7 onlink proto bird", "10.250.0.0/24 via 198.18.0.1 proto bird")
	if len(f.ops) != 0 {
		t.Errorf("re-apply changed routes: %q", f.ops)
	}
	ri.SetTunnels(never)
	step("pool switched to Never", "10.244.1.0/26 via 198.18.0.12 proto bird", "10.250.0.0/24 via 198.18.0.1 proto bird")
	if len(f.ops) != 1 || f.ops[0] != "replace 10.244.1.0/26 via 198.18.0.12" {
		t.Errorf("ops %q: want one in-place replace", f.ops)
	}
}
