package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// labBins holds calico-lab, calico-node, calico and (if it builds)
// calicoctl, built once per test binary.
var labBins = &testutil.BuildCache{Prefix: "tricolor-lab-bin-", Build: func(dir string) error {
	const mod = "github.com/tricolor-net/tricolor/cmd/"
	if err := testutil.GoBuild(dir, "-ldflags=-s -w", mod+"calico-lab", mod+"calico-node", mod+"calico"); err != nil {
		return err
	}
	// calicoctl only serves the passthrough; a lab works without it.
	if err := testutil.GoBuild(dir, "-ldflags=-s -w", mod+"calicoctl"); err != nil {
		fmt.Fprintf(os.Stderr, "calicoctl did not build (passthrough checks skip): %v\n", err)
	}
	return nil
}}

// testBinaries builds the lab's binaries on first use and finds them.
func testBinaries(t *testing.T) Binaries {
	t.Helper()
	bins, err := FindBinaries(labBins.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

func TestMain(m *testing.M) {
	code := m.Run()
	labBins.Remove()
	os.Exit(code)
}

// rootSnapshot is what the root namespace holds that a lab must never
// change: addresses, routes (IPv4 and IPv6) and veths.
type rootSnapshot struct{ addrs, routes, veths []string }

func snapshotRoot(t *testing.T) rootSnapshot {
	t.Helper()
	lines := func(args ...string) []string {
		out := testutil.MustRun(t, "ip", args...)
		var l []string
		for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
			if s = strings.TrimSpace(s); s != "" {
				l = append(l, s)
			}
		}
		sort.Strings(l)
		return l
	}
	veths := lines("-o", "link", "show", "type", "veth")
	for i, v := range veths {
		// "7: name@if3: <...>" → name; flags and counters change.
		if f := strings.Fields(v); len(f) > 1 {
			veths[i] = strings.TrimSuffix(f[1], ":")
		}
	}
	routes := append(lines("route", "show", "table", "all"), lines("-6", "route", "show", "table", "all")...)
	return rootSnapshot{addrs: lines("-o", "addr", "show"), routes: routes, veths: veths}
}

// assertNoLabTraceInRoot fails when the root namespace gained an address,
// route or veth in the lab's ranges or with the lab's names since before.
func assertNoLabTraceInRoot(t *testing.T, before rootSnapshot, what string) {
	t.Helper()
	after := snapshotRoot(t)
	had := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	for _, pair := range []struct {
		name   string
		before []string
		after  []string
	}{{"address", before.addrs, after.addrs}, {"route", before.routes, after.routes}, {"veth", before.veths, after.veths}} {
		old := had(pair.before)
		for _, s := range pair.after {
			if old[s] {
				continue
			}
			if strings.Contains(s, "198.18.") || strings.Contains(s, "10.244.") || strings.Contains(s, "cali") ||
				strings.Contains(s, "fd00:198:18:") || strings.Contains(s, "fd00:10:244:") ||
				strings.HasPrefix(s, "eth0") || strings.Contains(s, "lab-") {
				t.Errorf("%s: root namespace gained a %s: %s", what, pair.name, s)
			}
		}
	}
}

// assertRunGone fails if anything of the run is left: namespace, marked
// process, recorded process or run directory.
func assertRunGone(t *testing.T, root, runID string, procs []Process) {
	t.Helper()
	if left, _ := listNetns(runPrefix(runID)); len(left) > 0 {
		t.Errorf("namespaces left after down: %v", left)
	}
	if pids := stillRunning(pidsWithRunID(runID)); len(pids) > 0 {
		t.Errorf("processes marked %s=%s left after down: %v", EnvRunID, runID, pids)
	}
	for _, p := range procs {
		if p.alive() {
			t.Errorf("%s %s (pid %d) still runs after down", p.Role, p.Name, p.PID)
		}
	}
	if _, err := os.Stat(RunDir(root, runID)); err == nil {
		t.Errorf("run directory %s left after down", RunDir(root, runID))
	}
}

// upLab brings a lab up in a temporary run root and takes it down in
// t.Cleanup (after printing its logs if the test failed).
func upLab(t *testing.T, topo *Topology) *Lab {
	t.Helper()
	testutil.RequireRoot(t)
	bins := testBinaries(t)
	// Not t.TempDir(): a long test name would push calico-node's BGP
	// status socket (<run>/nodes/<node>/run/bgp.sock) past the 108 bytes
	// a unix socket path may have.
	root, err := os.MkdirTemp("", "lab")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	l, err := Up(ctx, topo, Options{RunRoot: root, Bins: bins, Progress: func(s string) { t.Logf("[%5.2fs] %s", time.Since(start).Seconds(), s) }})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Logf("lab %s up in %s", l.RunID(), time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, l)
		}
		_ = l.Down(context.Background())
	})
	return l
}

// dumpLogs prints the tail of every log of the run.
func dumpLogs(t *testing.T, l *Lab) {
	logs, _ := filepath.Glob(filepath.Join(l.Dir(), "logs", "*"))
	for _, f := range logs {
		t.Logf("--- %s ---\n%s", filepath.Base(f), tail(f, 3000))
	}
}

// testutilCommand is an unstarted command inside a named namespace.
func testutilCommand(netns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", netns, name}, args...)...)
}
