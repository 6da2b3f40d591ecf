package ipip

import (
	"net/netip"
	"reflect"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/routeinput"
)

func TestComputeDesired(t *testing.T) {
	yes, no, mtu := true, false, 1400
	me := calc.VTEP{Node: "node-a", ParentIPv4: "198.18.0.11", IPIPv4Addr: "10.244.0.1"}
	pool := func(cidr string, mode v3.IPIPMode) calc.Pool { return calc.Pool{CIDR: cidr, IPIPMode: mode} }
	tests := []struct {
		name   string
		pools  []calc.Pool
		vteps  []calc.VTEP
		config *v3.FelixConfigurationSpec
		want   *Device
	}{
		{"Always pool", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeAlways)}, []calc.VTEP{me}, nil,
			&Device{Addr: mustAddr("10.244.0.1"), ParentIP: mustAddr("198.18.0.11")}},
		{"CrossSubnet pool", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeCrossSubnet)}, []calc.VTEP{me}, nil,
			&Device{Addr: mustAddr("10.244.0.1"), ParentIP: mustAddr("198.18.0.11")}},
		{"disabled pool still counts", []calc.Pool{{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeAlways, Disabled: true}}, []calc.VTEP{me}, nil,
			&Device{Addr: mustAddr("10.244.0.1"), ParentIP: mustAddr("198.18.0.11")}},
		{"Never pool", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeNever)}, []calc.VTEP{me}, nil, nil},
		{"no mode set", []calc.Pool{pool("10.244.0.0/16", "")}, []calc.VTEP{me}, nil, nil},
		{"IPv6 pool never uses IPIP", []calc.Pool{pool("fd00::/64", v3.IPIPModeAlways)}, []calc.VTEP{me}, nil, nil},
		{"no pools", nil, []calc.VTEP{me}, nil, nil},
		{"ipipEnabled=false wins", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeAlways)}, []calc.VTEP{me},
			&v3.FelixConfigurationSpec{IPIPEnabled: &no}, nil},
		{"ipipEnabled=true without a pool, ipipMTU", nil, []calc.VTEP{me},
			&v3.FelixConfigurationSpec{IPIPEnabled: &yes, IPIPMTU: &mtu},
			&Device{Addr: mustAddr("10.244.0.1"), ParentIP: mustAddr("198.18.0.11"), MTU: 1400}},
		{"no tunnel address yet: device without an address", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeAlways)}, nil, nil, &Device{}},
		{"another node's address is not ours", []calc.Pool{pool("10.244.0.0/16", v3.IPIPModeAlways)},
			[]calc.VTEP{{Node: "node-b", IPIPv4Addr: "10.244.1.1", ParentIPv4: "198.18.0.12"}}, nil, &Device{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := routeinput.New("node-a", inputs)
			if tc.config != nil {
				in.Record(calc.ConfigUpdate{Config: tc.config})
			}
			for i, p := range tc.pools {
				in.Record(calc.IPPoolUpdate{Name: string(rune('a' + i)), Pool: p})
			}
			for _, v := range tc.vteps {
				in.Record(calc.VTEPUpdate{VTEP: v})
			}
			if got := computeDesired(in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestManager_OnUpdateFollowsPoolModeChanges(t *testing.T) {
	m := New(Config{NodeName: "node-a"})
	m.OnUpdate(calc.VTEPUpdate{VTEP: calc.VTEP{Node: "node-a", ParentIPv4: "198.18.0.11", IPIPv4Addr: "10.244.0.1"}})
	for _, step := range []struct {
		mode v3.IPIPMode
		on   bool
	}{{v3.IPIPModeNever, false}, {v3.IPIPModeAlways, true}, {v3.IPIPModeCrossSubnet, true}, {v3.IPIPModeNever, false}} {
		m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: step.mode}})
		if got := m.Desired() != nil; got != step.on {
			t.Errorf("ipipMode %s: device wanted = %v, want %v", step.mode, got, step.on)
		}
	}
	m.OnUpdate(calc.IPPoolUpdate{Name: "default", Pool: calc.Pool{CIDR: "10.244.0.0/16", IPIPMode: v3.IPIPModeAlways}})
	m.OnUpdate(calc.IPPoolRemove{Name: "default"})
	if m.Desired() != nil {
		t.Error("device still wanted after the IPIP pool was removed")
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
