package bgp

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// frrProc is Debian's FRR (zebra + bgpd) running in a test namespace with
// every socket, pid and config file in a private temp dir.
type frrProc struct {
	dir   string
	procs []*exec.Cmd
}

// startFRR runs zebra and bgpd inside ns with the given bgpd config. The
// daemons drop privileges to Debian's frr user, so the dir is theirs.
func startFRR(t *testing.T, ns *testutil.Netns, listen, bgpdConf string) *frrProc {
	t.Helper()
	requireTool(t, "/usr/lib/frr/bgpd", "frr")
	dir, err := os.MkdirTemp("", "frr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &frrProc{dir: dir}
	for name, conf := range map[string]string{"zebra.conf": "", "bgpd.conf": bgpdConf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if u, err := user.Lookup("frr"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, filepath.Join(dir, "zebra.conf"), filepath.Join(dir, "bgpd.conf")} {
			_ = os.Chown(p, uid, gid)
		}
	}
	common := []string{"-z", filepath.Join(dir, "zserv.api"), "--vty_socket", dir}
	f.run(t, ns, "zebra", append([]string{"-f", filepath.Join(dir, "zebra.conf"), "-i", filepath.Join(dir, "zebra.pid")}, common...)...)
	waitFile(t, filepath.Join(dir, "zserv.api"), 10*time.Second)
	f.run(t, ns, "bgpd", append([]string{"-f", filepath.Join(dir, "bgpd.conf"), "-i", filepath.Join(dir, "bgpd.pid"), "-l", listen}, common...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("vtysh show bgp summary:\n%s", f.vtysh("show bgp summary"))
		}
		for i := len(f.procs) - 1; i >= 0; i-- { // bgpd before zebra
			_ = f.procs[i].Process.Signal(syscall.SIGTERM)
			_ = f.procs[i].Wait()
		}
		if t.Failed() {
			for _, d := range []string{"zebra", "bgpd"} {
				out, _ := os.ReadFile(filepath.Join(dir, d+".log"))
				t.Logf("%s log:\n%s", d, tail(string(out), 2000))
			}
		}
	})
	return f
}

func (f *frrProc) run(t *testing.T, ns *testutil.Netns, daemon string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(f.dir, daemon+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command("/usr/lib/frr/"+daemon, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.procs = append(f.procs, cmd)
}

func (f *frrProc) vtysh(cmd string) string {
	out, err := exec.Command("vtysh", "--vty_socket", f.dir, "-c", cmd).CombinedOutput()
	if err != nil {
		return err.Error() + ": " + string(out)
	}
	return string(out)
}

func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear within %s", path, timeout)
}

// frrTorConf is bgpd for a ToR in AS 65000 originating 10.251.0.0/24.
func frrTorConf(nodes ...string) string {
	var b strings.Builder
	b.WriteString("frr defaults traditional\nhostname tor\nlog stdout\n!\nrouter bgp 65000\n bgp router-id 198.18.0.1\n no bgp ebgp-requires-policy\n no bgp network import-check\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, " neighbor %s remote-as 64512\n neighbor %s timers 3 9\n neighbor %s timers connect 1\n", n, n, n)
	}
	b.WriteString(" address-family ipv4 unicast\n  network 10.251.0.0/24\n exit-address-family\n!\n")
	return b.String()
}

// kernelRoutes returns ns's IPv4 routes of one protocol, as `ip` prints them.
func kernelRoutes(t *testing.T, ns *testutil.Netns, proto string) []string {
	var out []string
	for _, l := range strings.Split(ns.IP(t, "-4", "route", "show", "proto", proto), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestPrivilegedFRR_EBGPWithToRRoutesFlowBothWays(t *testing.T) {
	testutil.RequireRoot(t)
	requireTool(t, "/usr/lib/frr/bgpd", "frr")
	nss, tor, st := torCluster(t)
	startFRR(t, tor, "198.18.0.1", frrTorConf("198.18.0.11", "198.18.0.12"))
	a := startNode(t, nss[0], "node-a", st)
	b := startNode(t, nss[1], "node-b", st)
	start := time.Now()

	fromToR := "10.251.0.0/24 via 198.18.0.1 dev eth0 proto bird"
	waitRoutes(t, nss[0], "node-a learns the FRR ToR's prefix and node-b's block", 30*time.Second,
		"blackhole 10.244.0.0/26 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird", fromToR)
	waitRoutes(t, nss[1], "node-b learns the FRR ToR's prefix and node-a's block", 30*time.Second,
		"10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird", "blackhole 10.244.1.0/26 proto bird", fromToR)
	// zebra installs our blocks as "proto bgp" (it may add nhid/metric).
	want := map[string]string{"10.244.0.0/26": "via 198.18.0.11 dev eth0", "10.244.1.0/26": "via 198.18.0.12 dev eth0"}
	var got []string
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		got = kernelRoutes(t, tor, "bgp")
		if len(got) == len(want) && !slices.ContainsFunc(got, func(l string) bool {
			dst, _, _ := strings.Cut(l, " ")
			return !strings.Contains(l, want[dst]) || want[dst] == ""
		}) {
			break
		}
		got = nil
	}
	if got == nil {
		t.Fatalf("FRR ToR kernel routes (proto bgp) = %q, want both blocks via their owners", kernelRoutes(t, tor, "bgp"))
	}
	t.Logf("eBGP with FRR converged in %s", time.Since(start).Round(time.Millisecond))
	for _, n := range []*nodeProc{a, b} {
		waitEstablished(t, n, 2)
	}

	// node-b stops (a calico-node restart): FRR, a graceful-restart helper
	// by default, keeps its block for node-b's restart time, then drops it.
	b.stop(syscall.SIGTERM)
	if got := kernelRoutes(t, tor, "bgp"); len(got) != 2 {
		t.Errorf("FRR ToR right after node-b stopped: %q, want both blocks kept (graceful restart)", got)
	}
	waitRoutes(t, nss[0], "node-a after node-b's restart time", 3*testRestartTime, "blackhole 10.244.0.0/26 proto bird", fromToR)
	for end := time.Now().Add(3 * testRestartTime); ; time.Sleep(200 * time.Millisecond) {
		got = kernelRoutes(t, tor, "bgp")
		if len(got) == 1 && strings.HasPrefix(got[0], "10.244.0.0/26") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("FRR ToR after node-b stopped: %q, want only node-a's block", got)
		}
	}
}
