package vxlan

import (
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

func vtep(node, tunnel, mac, parent string) calc.VTEP {
	return calc.VTEP{Node: node, IPv4Addr: tunnel, MAC: mac, ParentIPv4: parent}
}

// record returns node's input after the updates.
func record(node string, us ...calc.Update) *routeinput.Input {
	in := routeinput.New(node, inputs)
	for _, u := range us {
		in.Record(u)
	}
	return in
}

func TestComputeDesired_EncapDecision(t *testing.T) {
	pool := func(mode v3.VXLANMode) *calc.Pool {
		return &calc.Pool{CIDR: "10.65.0.0/16", VXLANMode: mode, IPIPMode: v3.IPIPModeNever}
	}
	cases := []struct {
		name       string
		mode       v3.VXLANMode
		sameSubnet bool
		typ        calc.RouteType
		wantRoute  bool
	}{
		{"always same subnet", v3.VXLANModeAlways, true, calc.RouteRemoteBlock, true},
		{"always other subnet", v3.VXLANModeAlways, false, calc.RouteRemoteBlock, true},
		{"cross-subnet same subnet", v3.VXLANModeCrossSubnet, true, calc.RouteRemoteBlock, false},
		{"cross-subnet other subnet", v3.VXLANModeCrossSubnet, false, calc.RouteRemoteBlock, true},
		{"never", v3.VXLANModeNever, false, calc.RouteRemoteBlock, false},
		{"local block", v3.VXLANModeAlways, false, calc.RouteLocalBlock, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			owner := "b"
			if c.typ == calc.RouteLocalBlock {
				owner = "a"
			}
			p := pool(c.mode)
			in := record("a",
				calc.VTEPUpdate{VTEP: vtep("a", "10.66.0.1", "66:00:00:00:00:01", "198.18.0.1")},
				calc.VTEPUpdate{VTEP: vtep("b", "10.66.0.2", "66:00:00:00:00:02", "198.18.1.2")},
				calc.IPPoolUpdate{Name: "p", Pool: *p},
				calc.IPPoolUpdate{Name: "on", Pool: *pool(v3.VXLANModeAlways)},
				calc.RouteUpdate{Route: calc.Route{Dst: "10.65.1.0/26", Type: c.typ, Node: owner, NodeIP: "198.18.1.2", SameSubnet: c.sameSubnet, Pool: p}},
			)
			d := computeDesired(in)
			if d.Device == nil {
				t.Fatal("device not desired although a VXLAN pool exists and node a has a VTEP")
			}
			if got := len(d.Routes) == 1; got != c.wantRoute {
				t.Fatalf("routes = %+v, want route: %v", d.Routes, c.wantRoute)
			}
			if c.wantRoute && (d.Routes[0].Via.String() != "10.66.0.2" || d.Routes[0].Dst.String() != "10.65.1.0/26") {
				t.Fatalf("route = %+v, want 10.65.1.0/26 via 10.66.0.2", d.Routes[0])
			}
			if len(d.Neighbours) != 1 || d.Neighbours[0].NodeIP.String() != "198.18.1.2" || d.Neighbours[0].MAC != "66:00:00:00:00:02" {
				t.Fatalf("neighbours = %+v, want only node b's VTEP", d.Neighbours)
			}
		})
	}
}

func TestComputeDesired_DeviceSettings(t *testing.T) {
	mtu, vni, port, off := 1400, 7, 8472, false
	// base: node a has a VTEP and a CrossSubnet pool exists; more updates follow.
	base := func(node string, more ...calc.Update) *routeinput.Input {
		return record(node, append([]calc.Update{
			calc.VTEPUpdate{VTEP: vtep("a", "10.66.0.1", "66:00:00:00:00:01", "198.18.0.1")},
			calc.IPPoolUpdate{Name: "p", Pool: calc.Pool{CIDR: "10.65.0.0/16", VXLANMode: v3.VXLANModeCrossSubnet}},
		}, more...)...)
	}
	t.Run("defaults", func(t *testing.T) {
		d := computeDesired(base("a"))
		if d.Device == nil || d.Device.VNI != 4096 || d.Device.Port != 4789 || d.Device.MTU != 0 ||
			d.Device.Addr.String() != "10.66.0.1" || d.Device.Local.String() != "198.18.0.1" {
			t.Fatalf("device = %+v, want VNI 4096 port 4789 MTU auto addr 10.66.0.1 local 198.18.0.1", d.Device)
		}
	})
	t.Run("config overrides", func(t *testing.T) {
		in := base("a", calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{VXLANMTU: &mtu, VXLANVNI: &vni, VXLANPort: &port}})
		d := computeDesired(in)
		if d.Device == nil || d.Device.VNI != 7 || d.Device.Port != 8472 || d.Device.MTU != 1400 {
			t.Fatalf("device = %+v, want VNI 7 port 8472 MTU 1400", d.Device)
		}
	})
	t.Run("disabled by config", func(t *testing.T) {
		in := base("a", calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{VXLANEnabled: &off}})
		if d := computeDesired(in); d.Device != nil {
			t.Fatalf("device = %+v, want none with vxlanEnabled=false", d.Device)
		}
	})
	t.Run("no vxlan pool", func(t *testing.T) {
		in := base("a", calc.IPPoolUpdate{Name: "p", Pool: calc.Pool{CIDR: "10.65.0.0/16", VXLANMode: v3.VXLANModeNever}})
		if d := computeDesired(in); d.Device != nil {
			t.Fatalf("device = %+v, want none without a VXLAN pool", d.Device)
		}
	})
	t.Run("no local vtep", func(t *testing.T) {
		in := base("z")
		if d := computeDesired(in); d.Device != nil {
			t.Fatalf("device = %+v, want none when this node has no VTEP", d.Device)
		}
	})
}
