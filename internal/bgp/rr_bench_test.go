package bgp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The route-reflector convergence benchmark: rrBenchClients simulated
// nodes, each a GoBGP speaker on its own loopback address (127.1.0.N) in
// one process inside one test namespace, peer only with a route reflector
// on 127.0.0.1 in the same namespace. Once every session is up, each
// client originates its node's /26 block at the same moment; the figure is
// the time until every client holds every other client's block. The
// baseline in the same run is the same clients with Debian's bird2 as the
// route reflector instead of our speaker.

// rrBenchClients is the number of simulated nodes.
const rrBenchClients = 100

// rrBenchRounds is how many originate/withdraw rounds one run times.
const rrBenchRounds = 5

// Helper process roles, selected by rrBenchRoleEnv.
const (
	rrBenchRoleEnv = "TRICOLOR_BGP_RRBENCH_ROLE"
	rrBenchOutEnv  = "TRICOLOR_BGP_RRBENCH_OUT"
	rrBenchNEnv    = "TRICOLOR_BGP_RRBENCH_N"
)

var rrBenchReflector = netip.MustParseAddr("127.0.0.1")

// rrBenchClientAddr is client i's address (i < 250).
func rrBenchClientAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 1, 0, byte(i + 1)}) }

// rrBenchBlock is client i's block.
func rrBenchBlock(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 26)
}

// rrBenchResult is what the clients process reports.
type rrBenchResult struct {
	// SessionsUp is from starting the clients to every session Established.
	SessionsUp time.Duration
	// Rounds are the times from originating the blocks to every client
	// holding all, one per round; Converged is their median.
	Rounds    []time.Duration
	Converged time.Duration
}

// BenchmarkPrivilegedRRConvergence100 measures, in one run, the
// convergence of 100 simulated nodes' blocks through our speaker as route
// reflector against bird2 as route reflector for the same clients. Run with
//
//	go test -run '^$' -bench PrivilegedRRConvergence -benchtime=1x ./internal/bgp/
func BenchmarkPrivilegedRRConvergence100(b *testing.B) {
	testutil.RequireRoot(b)
	requireTool(b, "bird", "bird2")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var ours, birds rrBenchResult
		b.Run("bird2-rr", func(b *testing.B) {
			ns := testutil.NewNetns(b, "rrbird")
			bird := startBird(b, ns, rrBenchBirdConf(rrBenchClients))
			if err := pollUntil(context.Background(), 10*time.Second, 100*time.Millisecond, "bird2's control socket", func() bool {
				return strings.Contains(bird.birdc("show", "status"), "Daemon is up")
			}); err != nil {
				b.Fatal(err)
			}
			birds = runRRBenchClients(b, ns, rrBenchClients)
		})
		b.Run("tricolor-rr", func(b *testing.B) {
			ns := testutil.NewNetns(b, "rrours")
			startRRBenchHelper(b, ns, "rr", rrBenchClients, "")
			ours = runRRBenchClients(b, ns, rrBenchClients)
		})
		if ours.Converged > 0 && birds.Converged > 0 {
			b.Logf("%d clients converged through our RR in %s, through bird2 in %s; ours/bird2 time ratio %.2f",
				rrBenchClients, ours.Converged.Round(time.Millisecond), birds.Converged.Round(time.Millisecond),
				ours.Converged.Seconds()/birds.Converged.Seconds())
		}
	}
}

// rrBenchBirdConf is bird2 as a passive route reflector for n clients.
// The direct protocol puts 127.0.0.0/8 in the table so the clients' next
// hops resolve (bird2 resolves iBGP next hops recursively).
func rrBenchBirdConf(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `log stderr { warning, error, fatal };
router id %s;
protocol device { scan time 10; }
protocol direct { ipv4; interface "lo"; }
template bgp rrclient {
	local %s as 64512;
	passive;
	rr client;
	rr cluster id 244.0.0.1;
	ipv4 { import all; export all; };
}
`, rrBenchReflector, rrBenchReflector)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "protocol bgp c%03d from rrclient { neighbor %s as 64512; }\n", i, rrBenchClientAddr(i))
	}
	return b.String()
}

// runRRBenchClients runs the clients process in ns and returns its result.
func runRRBenchClients(b *testing.B, ns *testutil.Netns, n int) rrBenchResult {
	out := filepath.Join(b.TempDir(), "result.json")
	done := startRRBenchHelper(b, ns, "clients", n, out)
	select {
	case err := <-done:
		if err != nil {
			b.Fatalf("clients process: %v", err)
		}
	case <-time.After(4 * time.Minute):
		b.Fatal("clients process did not finish within 4 minutes")
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	var r rrBenchResult
	if err := json.Unmarshal(raw, &r); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(r.Converged.Milliseconds()), "converge-ms")
	b.ReportMetric(float64(r.SessionsUp.Milliseconds()), "sessions-ms")
	b.ReportMetric(float64(slices.Min(r.Rounds).Milliseconds()), "min-ms")
	b.ReportMetric(float64(slices.Max(r.Rounds).Milliseconds()), "max-ms")
	b.Logf("%d clients: sessions up in %s, blocks converged in %s (median of %v)", n, r.SessionsUp.Round(time.Millisecond), r.Converged.Round(time.Millisecond), r.Rounds)
	return r
}

// startRRBenchHelper re-executes the test binary in ns as TestHelperRRBench
// with the given role; the process is stopped at cleanup. The returned
// channel yields its exit.
func startRRBenchHelper(b *testing.B, ns *testutil.Netns, role string, n int, out string) <-chan error {
	logPath := filepath.Join(b.TempDir(), role+".log")
	log, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd := ns.Command(os.Args[0], "-test.run=^TestHelperRRBench$", "-test.count=1")
	cmd.Env = append(os.Environ(), rrBenchRoleEnv+"="+role, rrBenchOutEnv+"="+out, rrBenchNEnv+"="+strconv.Itoa(n))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() { done <- cmd.Wait(); log.Close(); close(exited) }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if b.Failed() {
			raw, _ := os.ReadFile(logPath)
			b.Logf("%s log:\n%s", role, tail(string(raw), 3000))
		}
	})
	return done
}

// TestHelperRRBench is not a test: it is a process of
// BenchmarkPrivilegedRRConvergence100, and skips when run normally.
func TestHelperRRBench(t *testing.T) {
	role := os.Getenv(rrBenchRoleEnv)
	if role == "" {
		t.Skip("helper process for BenchmarkPrivilegedRRConvergence100; runs only when it re-executes the test binary")
	}
	n, err := strconv.Atoi(os.Getenv(rrBenchNEnv))
	if err != nil || n < 1 || n > 250 {
		t.Fatalf("%s=%q: want 1-250", rrBenchNEnv, os.Getenv(rrBenchNEnv))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch role {
	case "rr":
		runRRBenchReflector(ctx, t, n, quiet)
	case "clients":
		r, err := runRRBenchClientSpeakers(ctx, n, quiet)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(r)
		if err := os.WriteFile(os.Getenv(rrBenchOutEnv), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// runRRBenchReflector runs our speaker as the route reflector of n
// clients until ctx ends.
func runRRBenchReflector(ctx context.Context, t *testing.T, n int, log *slog.Logger) {
	d := &Desired{NodeName: "rr", RouterID: rrBenchReflector, ASN: 64512, ListenPort: 179, IPv4: rrBenchReflector,
		RouteReflectorClusterID: "244.0.0.1"}
	for i := 0; i < n; i++ {
		a := rrBenchClientAddr(i)
		d.Peers = append(d.Peers, Peer{Name: peerName(PeerTypeGlobal, a, 179), Address: a, Port: 179, ASN: 64512,
			Type: PeerTypeGlobal, RRClient: true, Passive: true, SourceAddress: rrBenchReflector})
	}
	sp := NewSpeaker(SpeakerConfig{Logger: log, ListenAddresses: []string{rrBenchReflector.String()}})
	if err := sp.Apply(ctx, d); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
}

// runRRBenchClientSpeakers starts n client speakers, waits for their
// sessions, originates every block at once and times the convergence.
func runRRBenchClientSpeakers(ctx context.Context, n int, log *slog.Logger) (rrBenchResult, error) {
	var r rrBenchResult
	var mu sync.Mutex
	held := make([]map[netip.Prefix]bool, n)
	speakers := make([]*Speaker, n)
	desired := make([]*Desired, n)
	start := time.Now()
	for i := range speakers {
		held[i] = map[netip.Prefix]bool{}
		a := rrBenchClientAddr(i)
		speakers[i] = NewSpeaker(SpeakerConfig{Logger: log, ListenAddresses: []string{a.String()}, ConnectRetry: time.Second,
			OnBestPaths: func(rs []LearnedRoute) {
				mu.Lock()
				defer mu.Unlock()
				for _, lr := range rs {
					if lr.Withdrawn {
						delete(held[i], lr.Prefix)
					} else {
						held[i][lr.Prefix] = true
					}
				}
			}})
		// Clients listen on another port: bird2 holds *:179 (nobody connects
		// to the clients anyway).
		desired[i] = &Desired{NodeName: fmt.Sprintf("node-%03d", i), RouterID: a, ASN: 64512, ListenPort: 1790, IPv4: a,
			Peers: []Peer{{Name: peerName(PeerTypeGlobal, rrBenchReflector, 179), Address: rrBenchReflector, Port: 179,
				ASN: 64512, Type: PeerTypeGlobal, SourceAddress: a}}}
		if err := speakers[i].Apply(ctx, desired[i]); err != nil {
			return r, fmt.Errorf("client %d: %w", i, err)
		}
	}
	err := pollUntil(ctx, 2*time.Minute, 50*time.Millisecond, "every client session Established", func() bool {
		for _, sp := range speakers {
			st, err := sp.Status(ctx)
			if err != nil || len(st) != 1 || !st[0].Established() {
				return false
			}
		}
		return true
	})
	if err != nil {
		return r, err
	}
	r.SessionsUp = time.Since(start)

	// Originate every block at once and wait until all are everywhere,
	// then withdraw them all and wait until they are gone; repeated, the
	// median of the originate rounds is the figure (one round is a couple
	// of seconds; the machine is noisy).
	for round := 0; round < rrBenchRounds; round++ {
		t0 := time.Now()
		if err := applyAll(ctx, speakers, desired, true); err != nil {
			return r, err
		}
		if err := waitHeld(ctx, &mu, held, n-1); err != nil {
			return r, err
		}
		r.Rounds = append(r.Rounds, time.Since(t0))
		if err := applyAll(ctx, speakers, desired, false); err != nil {
			return r, err
		}
		if err := waitHeld(ctx, &mu, held, 0); err != nil {
			return r, err
		}
	}
	sorted := slices.Clone(r.Rounds)
	slices.Sort(sorted)
	r.Converged = sorted[len(sorted)/2]
	return r, nil
}

// applyAll applies every client's Desired at once, with its block
// advertised or not.
func applyAll(ctx context.Context, speakers []*Speaker, desired []*Desired, advertise bool) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(speakers))
	for i, sp := range speakers {
		d := *desired[i]
		if advertise {
			d.Advertisements = []Advertisement{{Prefix: rrBenchBlock(i), Kind: AdvertiseBlock}}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sp.Apply(ctx, &d); err != nil {
				errs <- fmt.Errorf("client %d: apply (advertise=%v): %w", i, advertise, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// waitHeld waits until every client holds exactly want learned blocks.
func waitHeld(ctx context.Context, mu *sync.Mutex, held []map[netip.Prefix]bool, want int) error {
	return pollUntil(ctx, 2*time.Minute, 5*time.Millisecond, fmt.Sprintf("every client holding %d blocks", want), func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range held {
			if len(held[i]) != want {
				return false
			}
		}
		return true
	})
}

// pollUntil calls cond every interval until it holds, ctx ends or timeout
// passes.
func pollUntil(ctx context.Context, timeout, interval time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
	return nil
}
