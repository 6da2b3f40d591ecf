package blackhole

import (
	"context"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// newNode returns a node namespace and a manager programming it.
func newNode(t *testing.T) (*testutil.Netns, *Manager) {
	t.Helper()
	ns := testutil.NewNetns(t, "blackhole")
	return ns, New(Config{NodeName: "node1", Handle: ns.Netlink(t)})
}

func apply(t *testing.T, m *Manager, us ...calc.Update) {
	t.Helper()
	for _, u := range us {
		m.OnUpdate(u)
	}
	m.Resync()
	if err := m.Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// show returns `ip -d route show <dst>` ("" when there is none).
func show(t *testing.T, ns *testutil.Netns, dst string) string {
	t.Helper()
	if strings.Contains(dst, ":") {
		return strings.TrimSpace(ns.IP(t, "-d", "-6", "route", "show", dst))
	}
	return strings.TrimSpace(ns.IP(t, "-d", "route", "show", dst))
}

func localBlock(dst string) calc.Update {
	return calc.RouteUpdate{Route: calc.Route{Dst: dst, Node: "node1", Type: calc.RouteLocalBlock}}
}

// TestPrivilegedBlackholes walks the manager through one node namespace:
// blackholes programmed (IPv4 and IPv6, proto 80), a remote block ignored,
// a stale proto-80 blackhole kept before InSync and removed after, a
// hand-deleted route restored and counted as drift, a BIRD (proto 12)
// blackhole for a local block and one for a foreign block never touched,
// and a removed block's route deleted.
func TestPrivilegedBlackholes(t *testing.T) {
	testutil.RequireRoot(t)
	ns, m := newNode(t)
	ns.IP(t, "link", "set", "lo", "up")
	// Left over from an earlier run: ours, but maybe not wanted any more.
	ns.IP(t, "route", "add", "blackhole", "10.244.9.0/26", "proto", "80")
	// BIRD's routes: one for a block we will want, one for another.
	ns.IP(t, "route", "add", "blackhole", "10.244.5.0/26", "proto", "bird")
	ns.IP(t, "route", "add", "blackhole", "10.244.7.0/26", "proto", "bird")

	apply(t, m, localBlock("10.244.1.0/26"), localBlock("fd00:10::/122"), localBlock("10.244.5.0/26"),
		calc.RouteUpdate{Route: calc.Route{Dst: "10.244.2.0/26", Node: "node2", Type: calc.RouteRemoteBlock}})
	for dst, want := range map[string]string{
		"10.244.1.0/26": "blackhole 10.244.1.0/26 proto 80",
		"fd00:10::/122": "blackhole fd00:10::/122 dev lo proto 80",
		"10.244.2.0/26": "",
		"10.244.9.0/26": "blackhole 10.244.9.0/26 proto 80", // kept: not in sync yet
		"10.244.5.0/26": "blackhole 10.244.5.0/26 proto bird",
		"10.244.7.0/26": "blackhole 10.244.7.0/26 proto bird",
	} {
		if got := show(t, ns, dst); !strings.HasPrefix(got, want) || (want == "" && got != "") {
			t.Errorf("before in-sync, route %s = %q, want prefix %q", dst, got, want)
		}
	}
	if st := m.Stats(); st.Added != 2 || st.Foreign != 1 {
		t.Errorf("stats %+v, want Added 2 (v4+v6) and Foreign 1 (BIRD's 10.244.5.0/26)", st)
	}

	apply(t, m, calc.InSync{})
	if got := show(t, ns, "10.244.9.0/26"); got != "" {
		t.Errorf("stale proto-80 blackhole after in-sync = %q, want removed", got)
	}
	if got := show(t, ns, "10.244.7.0/26"); !strings.Contains(got, "proto bird") {
		t.Errorf("BIRD's blackhole for another block = %q, want untouched", got)
	}

	ns.IP(t, "route", "del", "blackhole", "10.244.1.0/26")
	apply(t, m)
	if got := show(t, ns, "10.244.1.0/26"); !strings.HasPrefix(got, "blackhole 10.244.1.0/26 proto 80") {
		t.Errorf("hand-deleted blackhole = %q, want restored with proto 80", got)
	}
	if st := m.Stats(); st.DriftRepairs != 1 {
		t.Errorf("DriftRepairs = %d, want 1", st.DriftRepairs)
	}

	apply(t, m, calc.RouteRemove{Dst: "10.244.1.0/26"}, calc.RouteRemove{Dst: "10.244.5.0/26"})
	if got := show(t, ns, "10.244.1.0/26"); got != "" {
		t.Errorf("removed block's blackhole = %q, want gone", got)
	}
	if got := show(t, ns, "10.244.5.0/26"); !strings.Contains(got, "proto bird") {
		t.Errorf("BIRD's blackhole after its block left = %q, want untouched", got)
	}
	if got := show(t, ns, "fd00:10::/122"); !strings.Contains(got, "proto 80") {
		t.Errorf("IPv6 blackhole = %q, want kept", got)
	}
}
