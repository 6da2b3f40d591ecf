package bgp

import (
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// fakeRoutes is an in-memory routing table. It deliberately ignores the
// protocol filter of a list, so the installer's own protocol check is what
// protects other owners' routes.
type fakeRoutes struct {
	routes []netlink.Route
	ops    []string
	// unreachable next hops make an add or replace fail as the kernel
	// does for a gateway on no connected network.
	unreachable map[string]bool
}

var _ RouteTable = (*fakeRoutes)(nil)

func (f *fakeRoutes) RouteListFiltered(family int, filter *netlink.Route, mask uint64) ([]netlink.Route, error) {
	var out []netlink.Route
	for _, r := range f.routes {
		if mask&netlink.RT_FILTER_DST != 0 && r.Dst.String() != filter.Dst.String() {
			continue // the dst filter is honoured; the protocol filter is not
		}
		if (r.Dst.IP.To4() != nil) == (family == netlink.FAMILY_V4) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeRoutes) RouteAdd(r *netlink.Route) error {
	if f.unreachable[r.Gw.String()] {
		return unix.ENETUNREACH
	}
	for _, x := range f.routes {
		if x.Dst.String() == r.Dst.String() {
			return unix.EEXIST
		}
	}
	f.ops = append(f.ops, "add "+describeRoute(r))
	f.routes = append(f.routes, *r)
	return nil
}

func (f *fakeRoutes) RouteReplace(r *netlink.Route) error {
	if f.unreachable[r.Gw.String()] {
		return unix.ENETUNREACH
	}
	f.ops = append(f.ops, "replace "+describeRoute(r))
	f.del(r)
	f.routes = append(f.routes, *r)
	return nil
}

func (f *fakeRoutes) RouteDel(r *netlink.Route) error {
	f.ops = append(f.ops, "del "+describeRoute(r))
	f.del(r)
	return nil
}

func (f *fakeRoutes) del(r *netlink.Route) {
	// As the kernel: a delete names dst and (when set) the protocol.
	f.routes = slices.DeleteFunc(f.routes, func(x netlink.Route) bool {
		return x.Dst.String() == r.Dst.String() && (r.Protocol == 0 || x.Protocol == r.Protocol)
	})
}

func (f *fakeRoutes) show() []string {
	var out []string
	for _, r := range f.routes {
		out = append(out, describeRoute(&r)+" proto "+itoaProto(r.Protocol))
	}
	slices.Sort(out)
	return out
}

func itoaProto(p netlink.RouteProtocol) string {
	if p == RouteProtocolBIRD {
		return "bird"
	}
	return p.String()
}

func kroute(cidr, gw string, proto netlink.RouteProtocol) netlink.Route {
	_, n, _ := net.ParseCIDR(cidr)
	r := netlink.Route{Dst: n, Protocol: proto, Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST}
	if gw != "" {
		r.Gw = net.ParseIP(gw)
	}
	return r
}

func learned(cidr, nh string, withdrawn bool) LearnedRoute {
	r := LearnedRoute{Prefix: netip.MustParsePrefix(cidr), Withdrawn: withdrawn}
	if nh != "" {
		r.NextHop = netip.MustParseAddr(nh)
	}
	return r
}

func TestRouteInstaller_ProgramsOnlyProtocol12WithMinimalChange(t *testing.T) {
	f := &fakeRoutes{routes: []netlink.Route{
		kroute("10.244.5.0/26", "", 80),                          // Felix's: untouchable
		kroute("198.18.0.0/24", "", unix.RTPROT_KERNEL),          // connected: untouchable
		kroute("10.244.9.0/26", "198.18.0.9", RouteProtocolBIRD), // stale: ours, no longer learned
		kroute("10.244.2.0/26", "198.18.0.3", RouteProtocolBIRD), // already right
	}}
	ri := NewRouteInstaller(f, testLogger())
	ri.AllowSweep()
	ri.OnBestPaths([]LearnedRoute{learned("10.244.2.0/26", "198.18.0.3", false), learned("10.244.3.0/26", "198.18.0.4", false)})
	ri.SetBlackholes([]netip.Prefix{netip.MustParsePrefix("10.244.1.0/26")})
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	wantOps := []string{"del 10.244.9.0/26 via 198.18.0.9", "add blackhole 10.244.1.0/26", "add 10.244.3.0/26 via 198.18.0.4"}
	if !reflect.DeepEqual(f.ops, wantOps) {
		t.Errorf("ops:\n got %q\nwant %q", f.ops, wantOps)
	}
	want := []string{
		"10.244.2.0/26 via 198.18.0.3 proto bird",
		"10.244.3.0/26 via 198.18.0.4 proto bird",
		"10.244.5.0/26 via <nil> proto 80",
		"198.18.0.0/24 via <nil> proto kernel",
		"blackhole 10.244.1.0/26 proto bird",
	}
	if got := f.show(); !reflect.DeepEqual(got, want) {
		t.Errorf("table:\n got %q\nwant %q", got, want)
	}

	// A second Apply with nothing changed does nothing.
	f.ops = nil
	if err := ri.Apply(); err != nil || len(f.ops) != 0 {
		t.Errorf("idempotent Apply: ops %q err %v", f.ops, err)
	}

	// Withdrawal and next-hop change (replaced in place, no gap).
	f.ops = nil
	ri.OnBestPaths([]LearnedRoute{learned("10.244.3.0/26", "", true), learned("10.244.2.0/26", "198.18.0.7", false)})
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	wantOps = []string{"del 10.244.3.0/26 via 198.18.0.4", "replace 10.244.2.0/26 via 198.18.0.7"}
	if !reflect.DeepEqual(f.ops, wantOps) {
		t.Errorf("ops after withdraw:\n got %q\nwant %q", f.ops, wantOps)
	}

	// Someone deletes our blackhole: the next Apply (resync) restores it.
	f.ops = nil
	f.del(&netlink.Route{Dst: ipNet(netip.MustParsePrefix("10.244.1.0/26")), Protocol: RouteProtocolBIRD})
	if err := ri.Apply(); err != nil || !reflect.DeepEqual(f.ops, []string{"add blackhole 10.244.1.0/26"}) {
		t.Errorf("repair: ops %q err %v", f.ops, err)
	}
}

func TestRouteInstaller_BlackholeWinsOverLearnedRouteForOwnBlock(t *testing.T) {
	f := &fakeRoutes{}
	ri := NewRouteInstaller(f, testLogger())
	ri.SetBlackholes([]netip.Prefix{netip.MustParsePrefix("10.244.1.0/26")})
	ri.OnBestPaths([]LearnedRoute{learned("10.244.1.0/26", "198.18.0.9", false)})
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	if got := f.show(); !reflect.DeepEqual(got, []string{"blackhole 10.244.1.0/26 proto bird"}) {
		t.Errorf("table = %q", got)
	}
}

func TestRouteInstaller_KeepsPreviousRunsRoutesUntilSweepAllowed(t *testing.T) {
	f := &fakeRoutes{routes: []netlink.Route{
		kroute("10.244.9.0/26", "198.18.0.9", RouteProtocolBIRD), // left by the previous run
	}}
	ri := NewRouteInstaller(f, testLogger())
	ri.OnBestPaths([]LearnedRoute{learned("10.244.3.0/26", "198.18.0.4", false)})
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	// A route learned and withdrawn in this run goes at once.
	ri.OnBestPaths([]LearnedRoute{learned("10.244.3.0/26", "", true)})
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	if got := f.show(); !reflect.DeepEqual(got, []string{"10.244.9.0/26 via 198.18.0.9 proto bird"}) {
		t.Fatalf("before sweep: table = %q, want only the previous run's route", got)
	}
	ri.AllowSweep()
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	if got := f.show(); len(got) != 0 {
		t.Errorf("after sweep: table = %q, want empty", got)
	}
}

func TestRouteInstaller_ApplyPendingTouchesOnlyChangedPrefixes(t *testing.T) {
	f := &fakeRoutes{routes: []netlink.Route{kroute("10.244.5.0/26", "", 80)}}
	ri := NewRouteInstaller(f, testLogger())
	ri.OnBestPaths([]LearnedRoute{learned("10.244.2.0/26", "198.18.0.3", false), learned("10.244.3.0/26", "198.18.0.4", false)})
	if err := ri.ApplyPending(); err != nil {
		t.Fatal(err)
	}
	f.ops = nil
	// Felix's 10.244.5.0/26 is withdrawn by a peer that once sent it: our
	// delete names protocol 12, so Felix's route survives.
	ri.OnBestPaths([]LearnedRoute{learned("10.244.3.0/26", "", true), learned("10.244.5.0/26", "198.18.0.9", false)})
	ri.OnBestPaths([]LearnedRoute{learned("10.244.5.0/26", "", true)})
	if err := ri.ApplyPending(); err != nil {
		t.Fatal(err)
	}
	want := []string{"10.244.2.0/26 via 198.18.0.3 proto bird", "10.244.5.0/26 via <nil> proto 80"}
	if got := f.show(); !reflect.DeepEqual(got, want) {
		t.Errorf("table = %q, want %q (ops %q)", got, want, f.ops)
	}
	if len(f.ops) != 2 {
		t.Errorf("ops = %q, want exactly two deletes (the changed prefixes only)", f.ops)
	}
}

func TestRouteInstaller_NeverOverwritesAnotherOwnersRouteForTheSamePrefix(t *testing.T) {
	f := &fakeRoutes{routes: []netlink.Route{kroute("10.244.5.0/26", "198.18.0.50", 80)}}
	ri := NewRouteInstaller(f, testLogger())
	ri.AllowSweep()
	ri.OnBestPaths([]LearnedRoute{learned("10.244.5.0/26", "198.18.0.9", false)})
	for name, apply := range map[string]func() error{"Apply": ri.Apply, "ApplyPending": ri.ApplyPending} {
		ri.OnBestPaths([]LearnedRoute{learned("10.244.5.0/26", "198.18.0.9", false)})
		err := apply()
		if err == nil || !strings.Contains(err.Error(), "not ours") {
			t.Errorf("%s: err = %v, want a report that the route is not ours", name, err)
		}
		if got := f.show(); !reflect.DeepEqual(got, []string{"10.244.5.0/26 via 198.18.0.50 proto 80"}) {
			t.Errorf("%s: table = %q, want Felix's route untouched", name, got)
		}
	}
}

// A route whose next hop the kernel cannot reach (a node on another
// subnet) is not an error to retry every second: it is logged once per
// prefix and next hop, retried on each full apply, logged again only when
// its next hop changes, and installed once the next hop is reachable.
func TestRouteInstaller_UnreachableNextHopIsLoggedOnceAndRetriedQuietly(t *testing.T) {
	f := &fakeRoutes{unreachable: map[string]bool{"198.18.2.13": true, "198.18.2.14": true}}
	var logs strings.Builder
	ri := NewRouteInstaller(f, slog.New(slog.NewTextHandler(&logs, nil)))
	warnings := func() int { return strings.Count(logs.String(), "level=WARN") }

	ri.OnBestPaths([]LearnedRoute{learned("10.244.2.0/26", "198.18.2.13", false), learned("10.244.1.0/26", "198.18.1.12", false)})
	for i := 0; i < 3; i++ {
		if err := ri.ApplyPending(); err != nil {
			t.Fatalf("apply pending %d: %v (an unreachable next hop must not be an error)", i, err)
		}
		if err := ri.Apply(); err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	if got := warnings(); got != 1 || !strings.Contains(logs.String(), "nextHop=198.18.2.13") {
		t.Fatalf("after 6 attempts: %d warnings, want 1 naming the next hop:\n%s", got, logs.String())
	}
	if want := []string{"10.244.1.0/26 via 198.18.1.12 proto bird"}; !slices.Equal(f.show(), want) {
		t.Errorf("routes %q, want %q", f.show(), want)
	}

	ri.OnBestPaths([]LearnedRoute{learned("10.244.2.0/26", "198.18.2.14", false)})
	if err := ri.ApplyPending(); err != nil {
		t.Fatal(err)
	}
	if got := warnings(); got != 2 {
		t.Fatalf("a new unreachable next hop: %d warnings, want 2:\n%s", got, logs.String())
	}

	delete(f.unreachable, "198.18.2.14")
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.244.1.0/26 via 198.18.1.12 proto bird", "10.244.2.0/26 via 198.18.2.14 proto bird"}; !slices.Equal(f.show(), want) {
		t.Errorf("once reachable: routes %q, want %q", f.show(), want)
	}
	if !strings.Contains(logs.String(), "next hop is reachable now") {
		t.Errorf("no log that the route went in:\n%s", logs.String())
	}
	f.unreachable["198.18.2.14"] = true
	f.routes = nil // someone flushed the table; the next hop is gone again
	if err := ri.Apply(); err != nil {
		t.Fatal(err)
	}
	if got := warnings(); got != 3 {
		t.Errorf("unreachable again after it was installed: %d warnings, want 3:\n%s", got, logs.String())
	}
}
