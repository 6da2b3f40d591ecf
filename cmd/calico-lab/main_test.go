package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/lab"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestCLI_BadArgumentsFailBeforeTouchingAnything needs no root: the
// topology and run lookup are checked first.
func TestCLI_BadArgumentsFailBeforeTouchingAnything(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"up", "--nodes", "1", "--subnets", "2"}, "--subnets 2"},
		{[]string{"up", "-f", filepath.Join(root, "missing.yaml")}, "read topology"},
		{[]string{"up", "--pool6-cidr", "fd00:10:245::/64"}, "pool6 is set but ipv6 is not true"},
		{[]string{"up", "--ipv6", "--pool6-cidr", "10.245.0.0/16"}, `pool6.cidr "10.245.0.0/16" is not an IPv6 CIDR`},
		{[]string{"status"}, "no lab is up"},
		{[]string{"pods", "--id", "nope"}, "no lab state"},
	}
	for _, c := range cases {
		bin := buildLab(t)
		cmd := exec.Command(bin, append([]string{"--run-root", root}, c.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("calico-lab %v: err %v, output %q; want failure mentioning %q", c.args, err, out, c.want)
		}
	}
}

var builtDir string

// buildLab builds calico-lab, calico-node, calico and calicoctl into one
// directory once per test binary and returns calico-lab's path.
func buildLab(t *testing.T) string {
	t.Helper()
	if builtDir == "" {
		dir, err := os.MkdirTemp("", "tricolor-calico-lab-")
		if err != nil {
			t.Fatal(err)
		}
		const mod = "github.com/tricolor-net/tricolor/cmd/"
		if out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", dir+"/", mod+"calico-lab", mod+"calico-node", mod+"calico").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		if out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", dir+"/", mod+"calicoctl").CombinedOutput(); err != nil {
			t.Logf("calicoctl did not build; passthrough check skipped: %v\n%s", err, out)
		}
		builtDir = dir
	}
	return filepath.Join(builtDir, "calico-lab")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// TestPrivilegedCLI_UpFromFilePodsExecPingCalicoctlDown drives the binary
// as a user would: up from a topology file with pods, list them, run a
// command in one, ping between same-node pods, print the matrix, ask
// calicoctl about the nodes, add and delete a pod, and bring it all down.
func TestPrivilegedCLI_UpFromFilePodsExecPingCalicoctlDown(t *testing.T) {
	testutil.RequireRoot(t)
	bin := buildLab(t)
	root := t.TempDir()
	id := lab.NewRunID()
	topo := filepath.Join(t.TempDir(), "topo.yaml")
	if err := os.WriteFile(topo, []byte(`
subnets: [{name: s1, cidr: 198.18.1.0/24}]
nodes: [{name: node-1, subnet: s1}]
nodeIP: explicit
pods:
- {name: a, node: node-1, labels: {app: a}}
- {name: b, node: node-1, labels: {app: b}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := labRunner(t, bin, root, id)

	out := run("up", "-f", topo)
	for _, want := range []string{"calico-node node-1: started", "pod default/a on node-1", "lab " + id + " is up"} {
		if !strings.Contains(out, want) {
			t.Errorf("up output lacks %q:\n%s", want, out)
		}
	}
	pods := run("pods")
	l, err := lab.Open(lab.Options{RunRoot: root, RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Pod("a")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pods, a.IP) || !strings.Contains(pods, "app=a") {
		t.Errorf("pods table lacks a's address %s or label:\n%s", a.IP, pods)
	}
	if out := run("exec", "a", "--", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, a.IP+"/32") {
		t.Errorf("exec ip addr in pod a does not show %s/32:\n%s", a.IP, out)
	}
	if out := run("ping", "b", "default/a"); !strings.Contains(out, "ok") {
		t.Errorf("ping b a: %s", out)
	}
	for _, probe := range []string{"probe", "matrix"} { // matrix is probe's alias
		if out := run(probe, "--proto", "tcp"); !strings.Contains(out, "default/a  .          ok") {
			t.Errorf("%s --proto tcp:\n%s", probe, out)
		}
	}
	if out := run("status"); !strings.Contains(out, "running (pid") || !strings.Contains(out, "198.18.1.2/24") {
		t.Errorf("status does not show a running, registered node:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(builtDir, "calicoctl")); err == nil {
		if out := run("calicoctl", "--", "get", "nodes", "-o", "wide"); !strings.Contains(out, "node-1") || !strings.Contains(out, "198.18.1.2/24") {
			t.Errorf("calicoctl get nodes:\n%s", out)
		}
	}
	run("pod", "add", "c", "--node", "node-1", "--namespace", "prod", "--labels", "app=c,tier=db")
	if out := run("pods"); !strings.Contains(out, "app=c,tier=db") {
		t.Errorf("pod c missing:\n%s", out)
	}
	run("pod", "del", "prod/c")
	// An exec'd command's exit code is passed on.
	cmd := exec.Command(bin, "--run-root", root, "--id", id, "exec", "a", "--", "sh", "-c", "exit 3")
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("exec exit code: %v", err)
	}

	run("down")
	if left, _ := filepath.Glob("/run/netns/lab-" + id + "-*"); len(left) > 0 {
		t.Errorf("namespaces left after down: %v", left)
	}
	if _, err := os.Stat(filepath.Join(root, id)); err == nil {
		t.Error("run directory left after down")
	}
}

// labRunner returns a function running calico-lab on one run (failing the
// test on a non-zero exit, returning the output), and takes the run down
// when the test ends.
func labRunner(t *testing.T, bin, root, id string) func(args ...string) string {
	t.Cleanup(func() { _ = exec.Command(bin, "down", "--run-root", root, "--id", id).Run() })
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--run-root", root, "--id", id}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("calico-lab %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// TestPrivilegedCLI_DualStackUpPingProbeOverIPv6: `up --ipv6` builds a
// dual-stack lab; pods get an IPv6 address (pod add, pods), nodes register
// theirs (status), and ping -6 / probe -6 reach a pod on the other node
// over IPv6.
func TestPrivilegedCLI_DualStackUpPingProbeOverIPv6(t *testing.T) {
	testutil.RequireRoot(t)
	bin := buildLab(t)
	root, id := t.TempDir(), lab.NewRunID()
	run := labRunner(t, bin, root, id)

	run("up", "--ipv6", "--nodes", "2")
	if out := run("pod", "add", "a", "--node", "node-1"); !strings.Contains(out, " fd00:10:244:") {
		t.Errorf("pod add in a dual-stack lab shows no IPv6 address: %s", out)
	}
	run("pod", "add", "b", "--node", "node-2")
	if out := run("pods"); !strings.Contains(out, "IPV6") {
		t.Errorf("pods table has no IPV6 column:\n%s", out)
	}
	if out := run("status"); !strings.Contains(out, "198.18.1.3/24 "+lab.Address6("198.18.1.3")+"/120") {
		t.Errorf("status does not show node-2 registered with both addresses:\n%s", out)
	}
	// BGP needs a moment to carry the IPv6 blocks across.
	want := "default/a  .          ok"
	var out string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if out = run("probe", "--ipv6", "--proto", "tcp"); strings.Contains(out, want) {
			break
		}
	}
	if !strings.Contains(out, "tcp over IPv6") || !strings.Contains(out, want) {
		t.Fatalf("probe --ipv6 --proto tcp: a (node-1) does not reach b (node-2):\n%s", out)
	}
	if out := run("ping", "-6", "b", "a"); !strings.Contains(out, "b -> a: ok") {
		t.Errorf("ping -6 b a: %s", out)
	}
	run("down")
}

// TestPrivilegedCLI_Demo runs `calico-lab demo` (what make demo runs): it
// must finish every step, print the policy's matrix, and leave no lab.
func TestPrivilegedCLI_Demo(t *testing.T) {
	testutil.RequireRoot(t)
	bin := buildLab(t)
	if _, err := os.Stat(filepath.Join(builtDir, "calicoctl")); err != nil {
		t.Skip("calicoctl did not build; the demo needs it")
	}
	root := t.TempDir()
	cmd := exec.Command(bin, "--run-root", root, "demo")
	out, err := cmd.CombinedOutput()
	t.Logf("calico-lab demo:\n%s", out)
	if err != nil {
		t.Fatalf("calico-lab demo: %v", err)
	}
	for _, want := range []string{
		"step 13/13: Tear down",
		"demo: OK",
		// ops/probe-1 reaches ops but nothing in shop once the policy is in.
		"ops/probe-1  .            ok           --           --       --          --",
		"Check complete; found 0 problems.",
		"nothing was written",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if ids, _ := lab.ListRuns(root); len(ids) > 0 {
		t.Errorf("labs left after the demo: %v", ids)
	}
}

func TestTakeGlobalFlags_StopsAtSeparatorOrForeignFlag(t *testing.T) {
	cases := []struct {
		in       []string
		id, root string
		rest     string
	}{
		{[]string{"--", "get", "nodes"}, "", "", "get nodes"},
		{[]string{"--id", "x1", "--run-root=/r", "--", "get", "--id", "y"}, "x1", "/r", "get --id y"},
		{[]string{"get", "nodes", "-o", "wide"}, "", "", "get nodes -o wide"},
		{[]string{"--id=z", "ipam", "show"}, "z", "", "ipam show"},
	}
	for _, c := range cases {
		g := &globals{}
		rest := takeGlobalFlags(g, c.in)
		if g.runID != c.id || g.runRoot != c.root || strings.Join(rest, " ") != c.rest {
			t.Errorf("%v: id %q root %q rest %v; want %q %q %q", c.in, g.runID, g.runRoot, rest, c.id, c.root, c.rest)
		}
	}
}
