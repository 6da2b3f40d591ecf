package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedCalicoNode_StartsInNamespace runs the real binary inside a
// fresh namespace (a veth with 198.18.9.2/24, MTU 1400) on the embedded
// datastore: -startup registers the node and writes the files; the default
// mode hosts Felix, which programs the namespace's nft table, and
// -felix-ready then succeeds; with CALICO_DISABLE_FELIX=true -felix-ready
// fails as calico-node's does. SIGTERM stops it cleanly both times.
func TestPrivilegedCalicoNode_StartsInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	bin := testutil.BuildBinary(t, ".")
	ns := testutil.NewNetns(t, "cnode")
	peer := testutil.NewNetns(t, "cpeer")
	testutil.Veth(t, ns, "eth0", peer, "peer0")
	ns.IP(t, "link", "set", "eth0", "mtu", "1400")
	ns.IP(t, "addr", "add", "198.18.9.2/24", "dev", "eth0")
	env := append(os.Environ(), "NODENAME=lab-node-1", "CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=Always",
		"TRICOLOR_VAR_LIB_DIR="+dir, "TRICOLOR_RUN_DIR="+dir, "TRICOLOR_EMBEDDED_ETCD_DIR="+filepath.Join(dir, "etcd"), "FELIX_HEALTHPORT=19099")

	cmd := ns.Command(bin, "-startup")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("-startup: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "mtu")); string(b) != "1350" {
		t.Fatalf("mtu file %q, want 1350 (1400 - VXLAN 50)", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "nodename")); string(b) != "lab-node-1" {
		t.Fatalf("nodename file %q", b)
	}

	// Default mode hosts Felix: -felix-ready turns 0 once Felix has
	// programmed the namespace's nft table after in-sync.
	began := time.Now()
	stopDaemon := runDaemon(t, ns, bin, env)
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := ns.Command(bin, "-felix-ready")
		probe.Env = env
		out, err := probe.CombinedOutput()
		if err == nil {
			t.Logf("-felix-ready succeeded %v after start", time.Since(began).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("-felix-ready never succeeded: %s\nlogs:\n%s", out, stopDaemon())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := ns.Exec(t, "nft", "list", "table", "inet", "calico"); !strings.Contains(out, "chain filter-forward") {
		t.Errorf("Felix ready but the namespace's inet calico table lacks filter-forward:\n%s", out)
	}
	began = time.Now()
	stopDaemon()
	t.Logf("stopped in %v", time.Since(began).Round(time.Millisecond))

	// CALICO_DISABLE_FELIX=true: no Felix, and the probe says so.
	stopDaemon = runDaemon(t, ns, bin, append(env, "CALICO_DISABLE_FELIX=true"))
	deadline = time.Now().Add(20 * time.Second)
	for {
		probe := ns.Command(bin, "-felix-ready")
		probe.Env = env
		out, err := probe.CombinedOutput()
		if strings.Contains(string(out), "no felix component is running") {
			if err == nil {
				t.Fatal("-felix-ready exited 0 without Felix")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health endpoint never answered: %s\nlogs:\n%s", out, stopDaemon())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopDaemon()
}

// runDaemon starts calico-node in its default mode inside ns; the returned
// function stops it with SIGTERM, checks it exits 0 and returns its logs.
func runDaemon(t *testing.T, ns *testutil.Netns, bin string, env []string) func() string {
	t.Helper()
	daemon := ns.Command(bin)
	daemon.Env = env
	logs := &strings.Builder{}
	daemon.Stdout, daemon.Stderr = logs, logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- daemon.Wait() }()
	stopped := false
	stop := func() string {
		if stopped {
			return logs.String()
		}
		stopped = true
		// `ip netns exec` execs the binary in place, so this PID is calico-node.
		if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("calico-node exited with %v after SIGTERM\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			_ = daemon.Process.Kill()
			t.Errorf("calico-node did not stop on SIGTERM\n%s", logs.String())
		}
		return logs.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}
