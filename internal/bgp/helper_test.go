package bgp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// The privileged tests run each node's agent as a subprocess (this test
// binary re-executed inside the node's namespace with `ip netns exec`):
// GoBGP opens sockets from many goroutines, so locking one goroutine's
// thread into a namespace would not keep its connections there; a whole
// process in the namespace does.

// helperEnv names the helper's config file in the subprocess environment.
const helperEnv = "TRICOLOR_BGP_HELPER_CONFIG"

// helperConfig is what the parent hands a node subprocess.
type helperConfig struct {
	Node       string
	State      State
	StatusFile string
	HoldTime   time.Duration
	// Secrets maps "secret/key" to a value for BGPPassword references.
	Secrets map[string]string
}

// TestHelperBGPNode is not a test: it is the node process of the
// privileged tests, and skips when run normally.
func TestHelperBGPNode(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestPrivileged… BGP tests; runs only when they re-execute the test binary")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg, raw := readHelperConfig(t, path)
	h, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	// Secrets are read from the config file on every lookup, so a test can
	// change a password live.
	secrets := func(name, key string) (string, error) {
		c, _ := readHelperConfig(t, path)
		if v, ok := c.Secrets[name+"/"+key]; ok {
			return v, nil
		}
		return "", fmt.Errorf("secret %q has no key %q", name, key)
	}
	agent := NewAgent(AgentConfig{
		NodeName: cfg.Node,
		Secrets:  secrets,
		Routes:   h,
		Logger:   testLogger(),
		Speaker:  SpeakerConfig{ConnectRetry: time.Second, HoldTime: cfg.HoldTime},
	})
	go agent.Run(ctx)
	if _, err := agent.Apply(ctx, &cfg.State); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = agent.Stop(sctx)
			return
		case <-tick.C:
		}
		// A rewritten config file is re-applied (tests change state live).
		if next, nraw := readHelperConfig(t, path); !bytes.Equal(nraw, raw) {
			raw = nraw
			if _, err := agent.Apply(ctx, &next.State); err != nil {
				t.Logf("apply: %v", err)
			}
		}
		st, _ := agent.Status(ctx)
		b, _ := json.Marshal(st)
		tmp := cfg.StatusFile + ".tmp"
		if os.WriteFile(tmp, b, 0o644) == nil {
			_ = os.Rename(tmp, cfg.StatusFile)
		}
	}
}

func readHelperConfig(t *testing.T, path string) (*helperConfig, []byte) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg helperConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("helper config %s: %v", path, err)
	}
	return &cfg, raw
}

// nodeProc is a running node subprocess, seen from the parent test.
type nodeProc struct {
	name string
	ns   *testutil.Netns
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	// exitErr is the last run's exit status; killed marks a SIGKILL stop,
	// whose status says nothing about the node.
	exitErr error
	killed  bool
}

// startNode starts the agent for node name inside ns with state st.
// An optional map gives the node's secrets ("secret/key" → value).
func startNode(t testing.TB, ns *testutil.Netns, name string, st *State, secrets ...map[string]string) *nodeProc {
	t.Helper()
	n := &nodeProc{name: name, ns: ns, dir: t.TempDir()}
	var sec map[string]string
	if len(secrets) > 0 {
		sec = secrets[0]
	}
	n.writeConfig(t, st, sec)
	n.start(t)
	t.Cleanup(func() {
		n.stop(syscall.SIGTERM)
		if n.exitErr != nil && !n.killed {
			// A failed helper (e.g. a data race under -race) must not pass.
			t.Errorf("node %s process ended with %v", name, n.exitErr)
		}
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(n.dir, "log")); err == nil {
				t.Logf("node %s log:\n%s", name, tail(string(log), 3000))
			}
		}
	})
	return n
}

func (n *nodeProc) writeState(t testing.TB, st *State) {
	t.Helper()
	n.writeConfig(t, st, nil)
}

// writeConfig writes state and secrets; a running node re-applies them.
func (n *nodeProc) writeConfig(t testing.TB, st *State, secrets map[string]string) {
	t.Helper()
	b, err := json.Marshal(helperConfig{Node: n.name, State: *st, StatusFile: filepath.Join(n.dir, "status.json"), HoldTime: 9 * time.Second, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(n.dir, "config.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(n.dir, "config.json")); err != nil {
		t.Fatal(err)
	}
}

func (n *nodeProc) start(t testing.TB) {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(n.dir, "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = n.ns.Command(os.Args[0], "-test.run=^TestHelperBGPNode$", "-test.count=1")
	n.cmd.Env = append(os.Environ(), helperEnv+"="+filepath.Join(n.dir, "config.json"))
	n.cmd.Stdout, n.cmd.Stderr = log, log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.done = make(chan struct{})
	n.killed = false
	go func() { n.exitErr = n.cmd.Wait(); log.Close(); close(n.done) }()
}

// stop signals the node and waits for it (SIGKILL after 10s).
func (n *nodeProc) stop(sig syscall.Signal) {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	n.killed = sig == syscall.SIGKILL
	_ = n.cmd.Process.Signal(sig)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		n.exitErr = fmt.Errorf("did not stop within 10s of %s; killed", sig)
	}
}

// status reads the node's last reported peer states.
func (n *nodeProc) status() []PeerStatus {
	b, err := os.ReadFile(filepath.Join(n.dir, "status.json"))
	if err != nil {
		return nil
	}
	var st []PeerStatus
	_ = json.Unmarshal(b, &st)
	return st
}

// birdRoutes lists the node's "proto bird" routes as `ip route` prints them.
func birdRoutes(t testing.TB, ns *testutil.Netns) []string {
	var out []string
	for _, fam := range []string{"-4", "-6"} {
		for _, l := range strings.Split(ns.IP(t, fam, "route", "show", "table", "main"), "\n") {
			if l = strings.TrimSpace(l); strings.Contains(l, "proto bird") {
				out = append(out, l)
			}
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
