package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedCalicoNode_StartsInNamespace runs the real binary inside a
// fresh namespace (a veth with 198.18.9.2/24, MTU 1400) on the embedded
// datastore: -startup registers the node and writes the files; the default
// mode serves health until SIGTERM; -felix-ready fails as calico-node's
// does, since no Felix runs yet.
func TestPrivilegedCalicoNode_StartsInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "calico-node")
	if out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ns := testutil.NewNetns(t, "cnode")
	peer := testutil.NewNetns(t, "cpeer")
	testutil.Veth(t, ns, "eth0", peer, "peer0")
	ns.IP(t, "link", "set", "eth0", "mtu", "1400")
	ns.IP(t, "addr", "add", "198.18.9.2/24", "dev", "eth0")
	env := append(os.Environ(), "NODENAME=lab-node-1", "CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=Always",
		"TRICOLOR_VAR_LIB_DIR="+dir, "TRICOLOR_EMBEDDED_ETCD_DIR="+filepath.Join(dir, "etcd"), "FELIX_HEALTHPORT=19099")

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

	daemon := ns.Command(bin)
	daemon.Env = env
	var logs strings.Builder
	daemon.Stdout, daemon.Stderr = &logs, &logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	defer daemon.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
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
			t.Fatalf("health endpoint never answered: %s\nlogs:\n%s", out, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// `ip netns exec` execs the binary in place, so this PID is calico-node.
	if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- daemon.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("calico-node exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("calico-node did not stop on SIGTERM\n%s", logs.String())
	}
}
