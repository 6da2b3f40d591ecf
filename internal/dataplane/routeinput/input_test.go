package routeinput

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// oneOfEach is one update of every kind an Input may record, with the kind.
var oneOfEach = []struct {
	kind Kinds
	u    calc.Update
}{
	{VTEPs, calc.VTEPUpdate{VTEP: calc.VTEP{Node: "node-b"}}},
	{VTEPs, calc.VTEPRemove{Node: "node-b"}},
	{Routes, calc.RouteUpdate{Route: calc.Route{Dst: "10.244.1.0/26"}}},
	{Routes, calc.RouteRemove{Dst: "10.244.1.0/26"}},
	{Pools, calc.IPPoolUpdate{Name: "default"}},
	{Pools, calc.IPPoolRemove{Name: "default"}},
	{Config, calc.ConfigUpdate{}},
	{InSync, calc.InSync{}},
}

func TestRecord_OnlyTheChosenKindsDirty(t *testing.T) {
	for _, kinds := range []Kinds{VTEPs | Pools | Config, VTEPs | Routes | Pools | Config, Routes | InSync, InSync} {
		for _, tc := range oneOfEach {
			t.Run(fmt.Sprintf("kinds %05b %T", kinds, tc.u), func(t *testing.T) {
				in := New("node-a", kinds)
				want := kinds&tc.kind != 0
				if got := in.Record(tc.u); got != want {
					t.Errorf("Record = %v, want %v", got, want)
				}
				if in.Dirty() != want {
					t.Errorf("Dirty = %v, want %v", in.Dirty(), want)
				}
			})
		}
	}
	if New("node-a", VTEPs|Routes|Pools|Config|InSync).Record(calc.WorkloadEndpointRemove{}) {
		t.Error("an endpoint update was recorded: no kind covers it")
	}
}

func TestRecord_KindNotChosenIsNotStored(t *testing.T) {
	in := New("node-a", Routes)
	in.Record(calc.VTEPUpdate{VTEP: calc.VTEP{Node: "node-a"}})
	in.Record(calc.IPPoolUpdate{Name: "p", Pool: calc.Pool{CIDR: "10.244.0.0/16"}})
	in.Record(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{}})
	in.Record(calc.InSync{})
	if _, ok := in.LocalVTEP(); ok {
		t.Error("VTEP stored although VTEPs were not chosen")
	}
	if in.AnyPool(func(calc.Pool) bool { return true }) {
		t.Error("pool stored although Pools were not chosen")
	}
	if in.Config() != nil || in.InSync() {
		t.Errorf("config %v / in-sync %v stored although not chosen", in.Config(), in.InSync())
	}
}

func TestVTEPs_LocalAndRemote(t *testing.T) {
	in := New("node-a", VTEPs)
	for _, n := range []string{"node-a", "node-b", "node-c"} {
		in.Record(calc.VTEPUpdate{VTEP: calc.VTEP{Node: n, IPv4Addr: "10.244.0.1"}})
	}
	in.Record(calc.VTEPUpdate{VTEP: calc.VTEP{Node: "node-b", IPv4Addr: "10.244.1.1"}}) // replaces
	if me, ok := in.LocalVTEP(); !ok || me.Node != "node-a" {
		t.Errorf("LocalVTEP = %+v, %v; want node-a's", me, ok)
	}
	if got := remoteVTEPs(in); got != "[node-b=10.244.1.1 node-c=10.244.0.1]" {
		t.Errorf("RemoteVTEPs = %s", got)
	}
	in.Record(calc.VTEPRemove{Node: "node-c"})
	in.Record(calc.VTEPRemove{Node: "node-a"})
	if _, ok := in.LocalVTEP(); ok {
		t.Error("LocalVTEP after its removal")
	}
	if got := remoteVTEPs(in); got != "[node-b=10.244.1.1]" {
		t.Errorf("RemoteVTEPs after removing node-c = %s", got)
	}
}

func remoteVTEPs(in *Input) string {
	var out []string
	for v := range in.RemoteVTEPs() {
		out = append(out, v.Node+"="+v.IPv4Addr)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func TestBlocks_LocalAndRemote(t *testing.T) {
	in := New("node-a", Routes)
	for _, r := range []calc.Route{
		{Dst: "10.244.0.0/26", Type: calc.RouteLocalBlock, Node: "node-a"},
		{Dst: "fd00::/122", Type: calc.RouteLocalBlock, Node: "node-a"},
		{Dst: "10.244.1.0/26", Type: calc.RouteRemoteBlock, Node: "node-b"},
		{Dst: "10.244.2.0/26", Type: calc.RouteRemoteBlock, Node: "node-c"},
		// Inconsistent pairs the calc graph should not send: neither side claims them.
		{Dst: "10.244.3.0/26", Type: calc.RouteLocalBlock, Node: "node-b"},
		{Dst: "10.244.4.0/26", Type: calc.RouteRemoteBlock, Node: "node-a"},
	} {
		in.Record(calc.RouteUpdate{Route: r})
	}
	in.Record(calc.RouteRemove{Dst: "10.244.2.0/26"})
	if got := dsts(in.LocalBlocks()); got != "[10.244.0.0/26 fd00::/122]" {
		t.Errorf("LocalBlocks = %s", got)
	}
	if got := dsts(in.RemoteBlocks()); got != "[10.244.1.0/26]" {
		t.Errorf("RemoteBlocks = %s", got)
	}
}

func dsts(seq iter.Seq[calc.Route]) string {
	var out []string
	for r := range seq {
		out = append(out, r.Dst)
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func TestIterators_StopWhenTheLoopBreaks(t *testing.T) {
	in := New("node-a", VTEPs|Routes)
	for _, n := range []string{"node-b", "node-c", "node-d"} {
		in.Record(calc.VTEPUpdate{VTEP: calc.VTEP{Node: n}})
		in.Record(calc.RouteUpdate{Route: calc.Route{Dst: n, Type: calc.RouteRemoteBlock, Node: n}})
	}
	seen := 0
	for range in.RemoteVTEPs() {
		seen++
		break // the iterator must not call yield again (that would panic)
	}
	for range in.RemoteBlocks() {
		seen++
		break
	}
	if seen != 2 {
		t.Errorf("saw %d items, want one per loop", seen)
	}
}

func TestPoolsConfigInSync(t *testing.T) {
	in := New("node-a", Pools|Config|InSync)
	vxlan := func(p calc.Pool) bool { return p.VXLANMode == v3.VXLANModeAlways }
	in.Record(calc.IPPoolUpdate{Name: "p", Pool: calc.Pool{CIDR: "10.244.0.0/16"}})
	if in.AnyPool(vxlan) {
		t.Error("AnyPool true without a matching pool")
	}
	in.Record(calc.IPPoolUpdate{Name: "p", Pool: calc.Pool{CIDR: "10.244.0.0/16", VXLANMode: v3.VXLANModeAlways}})
	if !in.AnyPool(vxlan) {
		t.Error("AnyPool false after the pool changed mode")
	}
	in.Record(calc.IPPoolRemove{Name: "p"})
	if in.AnyPool(vxlan) {
		t.Error("AnyPool true after the pool was removed")
	}

	on := true
	cfg := &v3.FelixConfigurationSpec{VXLANEnabled: &on}
	in.Record(calc.ConfigUpdate{Config: cfg})
	if in.Config() != cfg {
		t.Errorf("Config = %v, want the one sent", in.Config())
	}
	in.Record(calc.ConfigUpdate{}) // the configuration was deleted
	if in.Config() != nil {
		t.Errorf("Config = %v after a nil update, want nil", in.Config())
	}

	if in.InSync() {
		t.Error("InSync before the InSync update")
	}
	in.Record(calc.InSync{})
	if !in.InSync() {
		t.Error("InSync not recorded")
	}
}

func TestApplyIfDirty(t *testing.T) {
	in := New("node-a", Pools)
	var runs []string
	reconcile := func(err error) func() error {
		return func() error { runs = append(runs, fmt.Sprint(err)); return err }
	}
	boom := errors.New("boom")

	if err := in.ApplyIfDirty(reconcile(nil)); err != nil || len(runs) != 0 {
		t.Fatalf("clean input: err %v, runs %v; want no run", err, runs)
	}
	in.Record(calc.IPPoolRemove{Name: "p"})
	if err := in.ApplyIfDirty(reconcile(boom)); !errors.Is(err, boom) || !in.Dirty() {
		t.Fatalf("failed reconcile: err %v, dirty %v; want boom and still dirty", err, in.Dirty())
	}
	if err := in.ApplyIfDirty(reconcile(nil)); err != nil || in.Dirty() {
		t.Fatalf("retry: err %v, dirty %v; want success and clean", err, in.Dirty())
	}
	if err := in.ApplyIfDirty(reconcile(nil)); err != nil {
		t.Fatal(err)
	}
	in.MarkDirty() // a resync
	if err := in.ApplyIfDirty(reconcile(nil)); err != nil || in.Dirty() {
		t.Fatalf("after MarkDirty: err %v, dirty %v", err, in.Dirty())
	}
	if want := []string{"boom", "<nil>", "<nil>"}; !slices.Equal(runs, want) {
		t.Errorf("reconcile runs = %v, want %v (none while clean)", runs, want)
	}
}
