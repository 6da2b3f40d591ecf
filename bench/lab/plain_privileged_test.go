package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/lab"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedPlainTopology builds the baseline, checks that every
// measured path carries TCP round trips and takes the shape it stands in
// for (routed over eth0, or over the vxlan device), that the lab's MTUs
// were applied, and that down leaves no namespace and nothing in the root
// namespace.
func TestPrivilegedPlainTopology(t *testing.T) {
	testutil.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := rootLines(t)
	p, err := upPlain(ctx, mtus{pod: 1410, vxlan: 1420})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.down)

	for _, tc := range []struct {
		dst, dev string
	}{{"a2", "bench1"}, {"b", "eth0"}, {"c", plainVXLANDev}} {
		t.Run("a1 to "+tc.dst, func(t *testing.T) {
			src, dst := p.pod("a1"), p.pod(tc.dst)
			out, err := exec.Command("ip", "-n", p.ns("n1"), "route", "get", dst.ip).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "dev "+tc.dev) {
				t.Errorf("n1 routes %s as %q (%v), want dev %s", dst.ip, strings.TrimSpace(string(out)), err, tc.dev)
			}
			ln, err := lab.ListenIn(dst.netns, net.JoinHostPort(dst.ip, "7001"))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go serveEcho(ln)
			rtts, err := roundTrips(ctx, side{src, dst}, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(rtts) != 100 {
				t.Errorf("%d round trips timed, want 100", len(rtts))
			}
		})
	}
	if mtu, err := linkMTU(ctx, p.pod("a1").netns, "eth0"); err != nil || mtu != 1410 {
		t.Errorf("pod eth0 MTU %d (%v), want the lab's 1410", mtu, err)
	}
	if mtu, err := linkMTU(ctx, p.ns("n1"), plainVXLANDev); err != nil || mtu != 1420 {
		t.Errorf("%s MTU %d (%v), want the lab's 1420", plainVXLANDev, mtu, err)
	}

	p.down()
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), p.prefix) {
			t.Errorf("namespace %s left after down", e.Name())
		}
	}
	for l := range rootLines(t) {
		if !before[l] && (strings.Contains(l, "198.19.") || strings.Contains(l, "10.245.") || strings.Contains(l, "bench")) {
			t.Errorf("root namespace gained %q", l)
		}
	}
}

// rootLines are the root namespace's addresses, routes and links.
func rootLines(t *testing.T) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, args := range [][]string{{"-o", "addr"}, {"route", "show", "table", "all"}, {"-o", "link"}} {
		for _, l := range strings.Split(testutil.MustRun(t, "ip", args...), "\n") {
			m[strings.TrimSpace(l)] = true
		}
	}
	return m
}
