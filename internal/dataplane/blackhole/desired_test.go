package blackhole

import (
	"fmt"
	"testing"

	"github.com/tricolor-net/tricolor/internal/calc"
)

func TestLocalBlocks(t *testing.T) {
	local := func(dst string) calc.Route { return calc.Route{Dst: dst, Node: "node1", Type: calc.RouteLocalBlock} }
	remote := func(dst string) calc.Route { return calc.Route{Dst: dst, Node: "node2", Type: calc.RouteRemoteBlock} }
	cases := []struct {
		name   string
		routes []calc.Route
		want   string
	}{
		{"none", nil, "[]"},
		{"local v4 and v6 sorted", []calc.Route{local("fd00:10::/122"), local("10.244.1.64/26"), local("10.244.1.0/26")},
			"[10.244.1.0/26 10.244.1.64/26 fd00:10::/122]"},
		{"remote blocks skipped", []calc.Route{local("10.244.1.0/26"), remote("10.244.2.0/26")}, "[10.244.1.0/26]"},
		{"local type for another node skipped", []calc.Route{{Dst: "10.244.3.0/26", Node: "node3", Type: calc.RouteLocalBlock}}, "[]"},
		{"unmasked CIDR masked", []calc.Route{local("10.244.1.5/26")}, "[10.244.1.0/26]"},
		{"bad CIDR skipped", []calc.Route{local("not-a-cidr")}, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Config{NodeName: "node1"})
			for _, r := range tc.routes {
				m.OnUpdate(calc.RouteUpdate{Route: r})
			}
			if got := fmt.Sprint(m.Wanted()); got != tc.want {
				t.Fatalf("Wanted() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestOnUpdate_RemoveAndIgnored(t *testing.T) {
	m := New(Config{NodeName: "node1"})
	m.OnUpdate(calc.RouteUpdate{Route: calc.Route{Dst: "10.244.1.0/26", Node: "node1", Type: calc.RouteLocalBlock}})
	_ = m.in.ApplyIfDirty(func() error { return nil }) // as after a successful Apply
	m.OnUpdate(calc.VTEPRemove{Node: "node2"})
	if m.in.Dirty() {
		t.Fatal("an update the manager does not use marked it dirty")
	}
	m.OnUpdate(calc.RouteRemove{Dst: "10.244.1.0/26"})
	if !m.in.Dirty() || len(m.Wanted()) != 0 {
		t.Fatalf("after RouteRemove: dirty=%v wanted=%v, want dirty and none", m.in.Dirty(), m.Wanted())
	}
	if m.in.InSync() {
		t.Fatal("inSync before InSync")
	}
	m.OnUpdate(calc.InSync{})
	if !m.in.InSync() {
		t.Fatal("InSync not recorded")
	}
}
