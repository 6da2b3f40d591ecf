package bgp

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// routeLog collects LearnedRoutes into the current RIB view.
type routeLog struct {
	mu  sync.Mutex
	rib map[netip.Prefix]netip.Addr
}

func (r *routeLog) add(rs []LearnedRoute) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, lr := range rs {
		if lr.Withdrawn {
			delete(r.rib, lr.Prefix)
		} else {
			r.rib[lr.Prefix] = lr.NextHop
		}
	}
}

func (r *routeLog) get(p netip.Prefix) (netip.Addr, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	nh, ok := r.rib[p]
	return nh, ok
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// loopbackDesired is a one-peer Desired on 127.0.0.0/8 (no namespaces
// needed: every 127/8 address is local, nothing leaves the host).
func loopbackDesired(self, peer string, port, peerPort int, adverts ...string) *Desired {
	a := netip.MustParseAddr(self)
	d := &Desired{NodeName: self, RouterID: a, ASN: 64512, ListenPort: uint16(port), IPv4: a}
	if peer != "" {
		pa := netip.MustParseAddr(peer)
		d.Peers = []Peer{{Name: peerName(PeerTypeMesh, pa, uint16(peerPort)), Address: pa, Port: uint16(peerPort), ASN: 64512,
			Type: PeerTypeMesh, SourceAddress: a, MaxRestartTime: DefaultMaxRestartTime}}
	}
	for _, s := range adverts {
		d.Advertisements = append(d.Advertisements, Advertisement{Prefix: netip.MustParsePrefix(s), Kind: AdvertiseBlock})
	}
	return d
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newTestSpeaker(t *testing.T, listen string, rl *routeLog) *Speaker {
	cfg := SpeakerConfig{Logger: testLogger(), ListenAddresses: []string{listen}, ConnectRetry: time.Second}
	if rl != nil {
		cfg.OnBestPaths = rl.add
	}
	s := NewSpeaker(cfg)
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func TestSpeaker_LoopbackPeersExchangeAndWithdrawPaths(t *testing.T) {
	ctx := context.Background()
	ports := testutil.FreePorts(t, 2)
	rlB := &routeLog{rib: map[netip.Prefix]netip.Addr{}}
	a := newTestSpeaker(t, "127.0.0.1", nil)
	b := newTestSpeaker(t, "127.0.0.2", rlB)
	block := netip.MustParsePrefix("10.244.1.0/26")

	if err := a.Apply(ctx, loopbackDesired("127.0.0.1", "127.0.0.2", ports[0], ports[1], "10.244.1.0/26", "10.244.1.64/26")); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, loopbackDesired("127.0.0.2", "127.0.0.1", ports[1], ports[0])); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to learn 10.244.1.0/26 via 127.0.0.1", 20*time.Second, func() bool {
		nh, ok := rlB.get(block)
		return ok && nh == netip.MustParseAddr("127.0.0.1")
	})
	st, err := b.Status(ctx)
	if err != nil || len(st) != 1 || !st[0].Established() || st[0].Info != "Established" || st[0].Peer.Type != PeerTypeMesh {
		t.Fatalf("B status = %+v, %v; want one established mesh peer", st, err)
	}

	// Withdraw one block: B drops it and keeps the other.
	if err := a.Apply(ctx, loopbackDesired("127.0.0.1", "127.0.0.2", ports[0], ports[1], "10.244.1.64/26")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to drop the withdrawn block", 10*time.Second, func() bool { _, ok := rlB.get(block); return !ok })
	if _, ok := rlB.get(netip.MustParsePrefix("10.244.1.64/26")); !ok {
		t.Errorf("B lost 10.244.1.64/26, which is still advertised")
	}

	// Re-applying the same state changes nothing (the session stays up).
	before, _ := b.Status(ctx)
	if err := b.Apply(ctx, loopbackDesired("127.0.0.2", "127.0.0.1", ports[1], ports[0])); err != nil {
		t.Fatal(err)
	}
	after, _ := b.Status(ctx)
	if len(after) != 1 || !after[0].Established() || !after[0].Since.Equal(before[0].Since) {
		t.Errorf("idempotent Apply disturbed the session: before %+v after %+v", before, after)
	}

	// Removing the peer from A's desired state removes the session and B
	// loses the routes.
	if err := a.Apply(ctx, loopbackDesired("127.0.0.1", "", ports[0], 0, "10.244.1.64/26")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to drop routes after A removed the peering", 20*time.Second, func() bool {
		_, ok := rlB.get(netip.MustParsePrefix("10.244.1.64/26"))
		return !ok
	})
	if st, _ := a.Status(ctx); len(st) != 0 {
		t.Errorf("A still reports peers after removing them: %+v", st)
	}
}

func TestSpeaker_UnreachablePeerIsReportedNotEstablished(t *testing.T) {
	ctx := context.Background()
	ports := testutil.FreePorts(t, 2) // ports[1]: nobody listens there
	s := newTestSpeaker(t, "127.0.0.1", nil)
	if err := s.Apply(ctx, loopbackDesired("127.0.0.1", "127.0.0.3", ports[0], ports[1])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	st, err := s.Status(ctx)
	if err != nil || len(st) != 1 {
		t.Fatalf("status = %+v, %v; want one peer", st, err)
	}
	switch st[0].State {
	case "Idle", "Connect", "Active":
	default:
		t.Errorf("state = %q, want Idle/Connect/Active for a peer nobody answers for", st[0].State)
	}
	if st[0].Info == "" || st[0].Established() {
		t.Errorf("info = %q, want a reason", st[0].Info)
	}
}

func TestParseCommunities_StandardAndLarge(t *testing.T) {
	std, large, err := parseCommunities([]string{"65000:100", "4200000000:1:2"})
	if err != nil || len(std) != 1 || std[0] != 65000<<16|100 || len(large) != 1 || large[0].ASN != 4200000000 {
		t.Errorf("got %v %v %v", std, large, err)
	}
	for _, bad := range []string{"70000:1", "1", "a:b", "1:2:3:4"} {
		if _, _, err := parseCommunities([]string{bad}); err == nil {
			t.Errorf("parseCommunities(%q) accepted", bad)
		}
	}
}

func TestSpeaker_OwnPathBecomingBestWithdrawsTheLearnedOne(t *testing.T) {
	ctx := context.Background()
	ports := testutil.FreePorts(t, 2)
	rlB := &routeLog{rib: map[netip.Prefix]netip.Addr{}}
	a := newTestSpeaker(t, "127.0.0.1", nil)
	b := newTestSpeaker(t, "127.0.0.2", rlB)
	svc := netip.MustParsePrefix("10.96.0.0/12")
	if err := a.Apply(ctx, loopbackDesired("127.0.0.1", "127.0.0.2", ports[0], ports[1], "10.96.0.0/12")); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, loopbackDesired("127.0.0.2", "127.0.0.1", ports[1], ports[0])); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to learn the service CIDR from A", 20*time.Second, func() bool { _, ok := rlB.get(svc); return ok })
	// B starts advertising the same CIDR itself (as every node does for
	// serviceClusterIPs): its own path wins and the learned route goes.
	if err := b.Apply(ctx, loopbackDesired("127.0.0.2", "127.0.0.1", ports[1], ports[0], "10.96.0.0/12")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to drop the learned route once its own path is best", 10*time.Second, func() bool { _, ok := rlB.get(svc); return !ok })
}
