package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/ctl"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedCalicoNode_HostsBGPWithBirdBackend runs the real binary
// (Felix disabled, to keep it to BGP) in a fresh namespace on the embedded
// datastore: with the default backend (bird) -bird-live and -bird-ready
// succeed (one node, no peers: ready, as Calico's rule says) and
// `calicoctl node status` reports the running process; after SIGTERM it
// says "Calico process is not running." and exits 1; with
// CALICO_NETWORKING_BACKEND=vxlan no BGP runs and -bird-ready fails.
func TestPrivilegedCalicoNode_HostsBGPWithBirdBackend(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildBinary(t, ".")
	dir := t.TempDir()
	ns := testutil.NewNetns(t, "bnode")
	peer := testutil.NewNetns(t, "bpeer")
	testutil.Veth(t, ns, "eth0", peer, "peer0")
	ns.IP(t, "addr", "add", "198.18.9.2/24", "dev", "eth0")
	runDir := filepath.Join(dir, "run")
	t.Setenv("TRICOLOR_RUN_DIR", runDir) // for calicoctl below
	env := append(os.Environ(), "NODENAME=lab-bgp-1", "CALICO_IPV4POOL_CIDR=10.244.0.0/16",
		"TRICOLOR_VAR_LIB_DIR="+dir, "TRICOLOR_RUN_DIR="+runDir, "TRICOLOR_EMBEDDED_ETCD_DIR="+filepath.Join(dir, "etcd"),
		"FELIX_HEALTHPORT=19098", "CALICO_DISABLE_FELIX=true")

	probe := func(env []string, flag string) (string, error) {
		cmd := ns.Command(bin, flag)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	stopDaemon := runDaemon(t, ns, bin, env)
	began := time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := probe(env, "-bird-ready")
		if err == nil {
			t.Logf("-bird-ready succeeded %v after start", time.Since(began).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("-bird-ready never succeeded: %s\nlogs:\n%s", out, stopDaemon())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := probe(env, "-bird-live"); err != nil {
		t.Errorf("-bird-live: %v: %s", err, out)
	}
	var stdout, stderr bytes.Buffer
	if code := ctl.Main([]string{"node", "status"}, ctl.Options{Stdout: &stdout, Stderr: &stderr}); code != 0 {
		t.Fatalf("calicoctl node status exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	if want := "Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\nIPv6 BGP status\nNo IPv6 peers found.\n"; stdout.String() != want {
		t.Errorf("calicoctl node status:\n%s\nwant:\n%s", stdout.String(), want)
	}
	stopDaemon()
	stdout.Reset()
	if code := ctl.Main([]string{"node", "status"}, ctl.Options{Stdout: &stdout, Stderr: &stderr}); code != 1 || stdout.String() != "Calico process is not running.\n" {
		t.Errorf("after stop: exit %d, stdout %q", code, stdout.String())
	}

	vxlan := append(env, "CALICO_NETWORKING_BACKEND=vxlan")
	stopDaemon = runDaemon(t, ns, bin, vxlan)
	deadline = time.Now().Add(20 * time.Second)
	for {
		out, err := probe(vxlan, "-bird-ready")
		if strings.Contains(out, "no bgp component is running") {
			if err == nil {
				t.Fatal("-bird-ready exited 0 without BGP")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health endpoint never answered: %s\nlogs:\n%s", out, stopDaemon())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(runDir, "bgp.sock")); err == nil {
		t.Error("bgp.sock exists with CALICO_NETWORKING_BACKEND=vxlan")
	}
	stopDaemon()
}
