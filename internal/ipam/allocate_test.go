package ipam

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

var ctx = context.Background()

func TestAutoAssign_ClaimsBlockWithConfirmedAffinity(t *testing.T) {
	e := newEnv(t)
	e.pool("p4", "10.0.0.0/24", 26, nil)
	e.node("node-1", nil)
	ips := e.mustAssign("node-1", "h1", 3)
	if len(ips) != 3 {
		t.Fatalf("got %v; want 3 addresses", ips)
	}
	blk := blockFor(ips[0], 26)
	for _, ip := range ips {
		if blockFor(ip, 26) != blk {
			t.Errorf("addresses %v span blocks; want one affine block", ips)
		}
	}
	a, err := e.m.getAffinity(ctx, "node-1", blk)
	if err != nil || a.state() != affinityConfirmed {
		t.Fatalf("affinity %s: %+v %v; want confirmed", affinityName("node-1", blk), a, err)
	}
	got, _ := e.m.IPsByHandle(ctx, "h1")
	if len(got) != 3 {
		t.Errorf("IPsByHandle = %v; want the 3 addresses", got)
	}
	if r := e.check(); !r.OK() {
		t.Errorf("check after a clean allocation: %+v", r)
	}
}

func TestAutoAssign_ExhaustedNamesPoolsAndNode(t *testing.T) {
	e := newEnv(t)
	e.pool("tiny", "10.0.0.0/30", 30, nil)
	e.mustAssign("node-1", "h1", 4)
	_, _, err := e.assign("node-1", "h2", 1, 0)
	var ex *ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("err = %v; want ExhaustedError", err)
	}
	for _, want := range []string{"no IP addresses available in pool(s)", `"tiny" (10.0.0.0/30)`, `node "node-1"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestAutoAssign_PartialFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	e.pool("tiny", "10.0.0.0/30", 30, nil)
	if _, _, err := e.assign("node-1", "h1", 5, 0); err == nil {
		t.Fatal("5 addresses from a /30 succeeded")
	}
	if n := e.count(kindIPAMHandle); n != 0 {
		t.Errorf("%d handles left after a failed request; want 0", n)
	}
	if ips := e.mustAssign("node-1", "h2", 4); len(ips) != 4 {
		t.Errorf("after rollback got %v; want all 4 addresses free again", ips)
	}
}

func TestAllocate_BorrowsWhenAffineBlocksFull(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/29", 30, nil) // two /30 blocks
	a := e.mustAssign("node-a", "ha", 1)
	b := e.mustAssign("node-b", "hb", 5) // its own block, then borrows from node-a's
	if len(b) != 5 {
		t.Fatalf("node-b got %v", b)
	}
	borrowed := 0
	for _, ip := range b {
		if blockFor(ip, 30) == blockFor(a[0], 30) {
			borrowed++
		}
	}
	if borrowed != 1 {
		t.Errorf("node-b borrowed %d addresses from node-a's block; want 1", borrowed)
	}
}

func TestAllocate_StrictAffinityForbidsBorrowing(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/29", 30, nil)
	if err := e.m.SetIPAMConfig(ctx, Config{StrictAffinity: true, AutoAllocateBlocks: true}); err != nil {
		t.Fatal(err)
	}
	e.mustAssign("node-a", "ha", 1)
	_, _, err := e.assign("node-b", "hb", 5, 0)
	if err == nil || !strings.Contains(err.Error(), "strictAffinity") {
		t.Fatalf("err = %v; want exhaustion citing strictAffinity", err)
	}
	if ips := e.mustAssign("node-b", "hb", 4); len(ips) != 4 {
		t.Fatalf("node-b's own block: %v", ips)
	}
}

func TestAllocate_MaxBlocksPerHost(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 30, nil)
	if err := e.m.SetIPAMConfig(ctx, Config{StrictAffinity: true, MaxBlocksPerHost: 2, AutoAllocateBlocks: true}); err != nil {
		t.Fatal(err)
	}
	e.mustAssign("node-a", "h", 8)
	_, _, err := e.assign("node-a", "h2", 1, 0)
	if err == nil || !strings.Contains(err.Error(), "maxBlocksPerHost=2") {
		t.Fatalf("err = %v; want the block cap named", err)
	}
	if affs, _ := e.m.listAffinities(ctx, "node-a"); len(affs) != 2 {
		t.Errorf("node-a has %d affinities; want 2", len(affs))
	}
}

func TestAllocate_SkipsReservedAddresses(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/28", 28, nil)
	e.reservation("r", "10.0.0.0/30", "10.0.0.9")
	ips := e.mustAssign("node-a", "h", 11)
	for _, ip := range ips {
		if mustPrefix("10.0.0.0/30").Contains(ip) || ip == mustAddr("10.0.0.9") {
			t.Errorf("reserved %s was handed out", ip)
		}
	}
	if _, _, err := e.assign("node-a", "h2", 1, 0); err == nil {
		t.Error("a 12th address came out of 11 unreserved ones")
	}
	_, err := e.m.AssignIP(ctx, AssignIPArgs{IP: mustAddr("10.0.0.9"), HandleID: "x", Hostname: "node-a"})
	var re *ReservedError
	if !errors.As(err, &re) || re.Reservation != "r" {
		t.Errorf("AssignIP(reserved) = %v; want ReservedError naming r", err)
	}
}

func TestAllocate_NodeSelectedPools(t *testing.T) {
	e := newEnv(t)
	e.pool("rack-a", "10.1.0.0/24", 26, map[string]any{"nodeSelector": "rack == 'a'"})
	e.pool("rack-b", "10.2.0.0/24", 26, map[string]any{"nodeSelector": "rack == 'b'"})
	e.node("n-a", map[string]string{"rack": "a"})
	e.node("n-b", map[string]string{"rack": "b"})
	e.node("n-c", map[string]string{"rack": "c"})
	if ip := e.mustAssign("n-a", "ha", 1)[0]; !mustPrefix("10.1.0.0/24").Contains(ip) {
		t.Errorf("n-a got %s; want from rack-a", ip)
	}
	if ip := e.mustAssign("n-b", "hb", 1)[0]; !mustPrefix("10.2.0.0/24").Contains(ip) {
		t.Errorf("n-b got %s; want from rack-b", ip)
	}
	_, _, err := e.assign("n-c", "hc", 1, 0)
	var np *NoPoolsError
	if !errors.As(err, &np) || !strings.Contains(err.Error(), "nodeSelector does not match") {
		t.Errorf("n-c: %v; want NoPoolsError explaining the selector", err)
	}
}

func TestAllocate_RequestedPoolsByNameOrCIDR(t *testing.T) {
	e := newEnv(t)
	e.pool("default", "10.0.0.0/24", 26, nil)
	e.pool("special", "10.9.0.0/24", 26, map[string]any{"nodeSelector": "!all()"})
	for _, req := range []string{"special", "10.9.0.0/24"} {
		v4, _, err := e.m.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: "h-" + req[:2], Hostname: "n", IPv4Pools: []string{req}})
		if err != nil || !mustPrefix("10.9.0.0/24").Contains(v4.IPs[0].Addr) {
			t.Errorf("requested %q: %v %v; want an address from special", req, v4, err)
		}
	}
	_, _, err := e.m.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: "h", Hostname: "n", IPv4Pools: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `"nope" does not exist`) {
		t.Errorf("unknown pool: %v", err)
	}
}

func TestAllocate_DisabledPoolsAndAllowedUses(t *testing.T) {
	e := newEnv(t)
	e.pool("off", "10.1.0.0/24", 26, map[string]any{"disabled": true})
	e.pool("tunnels", "10.2.0.0/24", 26, map[string]any{"allowedUses": []string{"Tunnel"}})
	e.pool("pods", "10.3.0.0/24", 26, map[string]any{"allowedUses": []string{"Workload"}})
	if ip := e.mustAssign("n", "h", 1)[0]; !mustPrefix("10.3.0.0/24").Contains(ip) {
		t.Errorf("workload got %s; want from pods", ip)
	}
	v4, _, err := e.m.AutoAssign(ctx, AutoAssignArgs{Num4: 1, HandleID: TunnelHandle("vxlan", "n"), Hostname: "n", IntendedUse: UseTunnel})
	if err != nil || !mustPrefix("10.2.0.0/24").Contains(v4.IPs[0].Addr) {
		t.Errorf("tunnel got %v %v; want from tunnels", v4, err)
	}
}

func TestAllocate_DualStackBothOrNeither(t *testing.T) {
	e := newEnv(t)
	e.pool("v4", "10.0.0.0/24", 26, nil)
	e.pool("v6", "fd00::/122", 122, nil)
	v4, v6, err := e.assign("n", "h1", 1, 1)
	if err != nil || len(v4.IPs) != 1 || len(v6.IPs) != 1 || !v6.IPs[0].Addr.Is6() {
		t.Fatalf("dual-stack: %v %v %v", v4, v6, err)
	}
	// Exhaust v6, then a dual-stack request must leave v4 untouched.
	e.mustAssign6(t, "n", "h2", 63)
	before := e.count(kindIPAMHandle)
	if _, _, err := e.assign("n", "h3", 1, 1); err == nil {
		t.Fatal("dual-stack succeeded with IPv6 exhausted")
	}
	if n := e.count(kindIPAMHandle); n != before {
		t.Errorf("handles %d → %d; a failed dual-stack request left its IPv4 half", before, n)
	}
	if a, err := e.m.GetAssignmentAttributes(ctx, mustAddr("10.0.0.0").Next()); err == nil && a.Handle == "h3" {
		t.Error("IPv4 address of the failed request is still allocated")
	}
}

func (e *env) mustAssign6(t *testing.T, node, h string, n int) {
	t.Helper()
	if _, _, err := e.assign(node, h, 0, n); err != nil {
		t.Fatal(err)
	}
}

func TestAssignIP_Errors(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 26, nil)
	if _, err := e.m.AssignIP(ctx, AssignIPArgs{IP: mustAddr("10.0.0.7"), HandleID: "a", Hostname: "n"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.m.AssignIP(ctx, AssignIPArgs{IP: mustAddr("10.0.0.7"), HandleID: "b", Hostname: "n"})
	var iu *InUseError
	if !errors.As(err, &iu) || iu.Handle != "a" {
		t.Errorf("second AssignIP: %v; want InUseError naming handle a", err)
	}
	_, err = e.m.AssignIP(ctx, AssignIPArgs{IP: mustAddr("192.0.2.1"), HandleID: "c", Hostname: "n"})
	var nip *NotInPoolError
	if !errors.As(err, &nip) {
		t.Errorf("outside pools: %v; want NotInPoolError", err)
	}
	if n := e.count(kindIPAMHandle); n != 1 {
		t.Errorf("%d handles after failed assignments; want 1", n)
	}
}

func TestRelease_StaleSequenceNumberIsRefused(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/30", 30, nil)
	v4, _, _ := e.assign("n", "old", 1, 0)
	old := v4.IPs[0]
	if _, err := e.m.ReleaseIPs(ctx, ReleaseOptions{Address: old.Addr}); err != nil {
		t.Fatal(err)
	}
	// Reallocate every address so old.Addr is certainly reused.
	e.mustAssign("n", "new", 4)
	seq := old.SequenceNumber
	_, err := e.m.ReleaseIPs(ctx, ReleaseOptions{Address: old.Addr, SequenceNumber: &seq})
	var st *StaleReleaseError
	if !errors.As(err, &st) {
		t.Fatalf("stale release: %v; want StaleReleaseError", err)
	}
	if a, err := e.m.GetAssignmentAttributes(ctx, old.Addr); err != nil || a.Handle != "new" {
		t.Errorf("after stale release %s is %+v %v; want still held by new", old.Addr, a, err)
	}
	if _, err := e.m.ReleaseIPs(ctx, ReleaseOptions{Address: old.Addr, Handle: "old"}); !errors.As(err, &st) {
		t.Errorf("release with the old handle: %v; want StaleReleaseError", err)
	}
}

func TestRelease_ByHandleEmptiesEverything(t *testing.T) {
	e := newEnv(t)
	e.pool("p", "10.0.0.0/24", 28, nil)
	e.mustAssign("n", "h", 20) // spans two blocks
	got, err := e.m.ReleaseByHandle(ctx, "h")
	if err != nil || len(got) != 20 {
		t.Fatalf("ReleaseByHandle: %d addresses, %v; want 20", len(got), err)
	}
	if n := e.count(kindIPAMHandle); n != 0 {
		t.Errorf("%d handles left; want 0", n)
	}
	if _, err := e.m.ReleaseByHandle(ctx, "h"); !errors.Is(err, ErrNoSuchAllocation) {
		t.Errorf("second release: %v; want ErrNoSuchAllocation", err)
	}
	if err := e.m.ReleaseHostAffinities(ctx, "n", true); err != nil {
		t.Fatal(err)
	}
	if b, a := e.count(kindIPAMBlock), e.count(kindBlockAffinity); b+a != 0 {
		t.Errorf("%d blocks, %d affinities left; want none", b, a)
	}
}

func TestRelease_CooldownDelaysReuse(t *testing.T) {
	e := newEnv(t)
	now := mustTime("2026-01-01T00:00:00Z")
	e.m.now = func() timeT { return now }
	e.pool("p", "10.0.0.0/30", 30, nil)
	if err := e.m.SetIPAMConfig(ctx, Config{AutoAllocateBlocks: true, IPCooldown: 30 * second}); err != nil {
		t.Fatal(err)
	}
	ips := e.mustAssign("n", "a", 4)
	if _, err := e.m.ReleaseIPs(ctx, ReleaseOptions{Address: ips[0]}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.assign("n", "b", 1, 0); err == nil {
		t.Fatal("a cooling address was handed out at once")
	}
	now = now.Add(31 * second)
	if got := e.mustAssign("n", "b", 1); got[0] != ips[0] {
		t.Errorf("after the cooldown got %v; want %s", got, ips[0])
	}
}

var _ = netip.Addr{}
