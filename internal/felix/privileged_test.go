package felix

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedFelix_ProgramsPolicyInNamespace runs Felix on the real nft
// binary with its loop goroutine locked inside a fresh network namespace:
// a workload and a deny policy written to the datastore show up as the
// policy chain in that namespace's `inet calico` table, and a later policy
// change is followed.
func TestPrivilegedFelix_ProgramsPolicyInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft binary (Debian package nftables)")
	}
	ns := testutil.NewNetns(t, "felix")
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", map[string]string{"app": "web"}))
	h.apply(netpol("prod", "deny-web", "app == 'web'", v3.Deny))

	f := New(h.config(func(c *Config) { c.NFT = nil })) // nil: the real nft
	runFelixIn(t, ns, f)
	// A fresh namespace starts with forwarding off; Felix turns it on
	// (FelixConfiguration ipForwarding defaults to Enabled).
	if got := strings.TrimSpace(ns.Exec(t, "sysctl", "-n", "net.ipv4.ip_forward")); got != "1" {
		t.Errorf("net.ipv4.ip_forward in %s = %q after Felix is ready, want 1", ns.Name, got)
	}
	list := func() string { return ns.Exec(t, "nft", "list", "table", "inet", "calico") }
	table := list()
	for _, want := range []string{"chain pi-default/prod/deny-web", "chain tw-caliweb", `"caliweb" : goto tw-caliweb`, "drop comment \"policy prod/deny-web"} {
		if !strings.Contains(table, want) {
			t.Errorf("nft list table inet calico in %s lacks %q:\n%s", ns.Name, want, table)
		}
	}

	// A second policy for the same workload appears without a restart.
	h.apply(netpol("prod", "allow-web", "app == 'web'", v3.Allow))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(table, "chain pi-default/prod/allow-web") {
		if time.Now().After(deadline) {
			t.Fatalf("new policy allow-web not programmed within 5s:\n%s", table)
		}
		time.Sleep(20 * time.Millisecond)
		table = list()
	}
}

// runFelixIn runs f with its loop thread inside ns until the test ends,
// and returns once f reports ready.
func runFelixIn(t *testing.T, ns *testutil.Netns, f *Felix) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread dies with the goroutine rather than
		// going back to the pool inside the test namespace.
		runtime.LockOSThread()
		fd, err := os.Open("/run/netns/" + ns.Name)
		if err != nil {
			done <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		done <- f.Run(ctx) // nft runs from this thread, so in the namespace
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Felix.Run: %v", err)
		}
	})
	waitReady(t, f)
}
