package testutil

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// etcdCandidates are where Debian's etcd-server package puts the binary; PATH
// is searched first.
var etcdCandidates = []string{"/usr/bin/etcd", "/usr/local/bin/etcd"}

// etcdStartTimeout bounds how long a fresh etcd may take to report healthy.
const etcdStartTimeout = 30 * time.Second

// EtcdProcess is an external etcd server (Debian's /usr/bin/etcd) running on
// loopback for one test. Stop and Start restart it on the same ports and data
// directory, so tests can exercise "the datastore went away and came back".
// It is stopped automatically in t.Cleanup.
type EtcdProcess struct {
	// Endpoint is the client URL, e.g. "http://127.0.0.1:41234".
	Endpoint string
	// DataDir is the server's data directory (under t.TempDir()).
	DataDir string

	t    testing.TB
	proc *serverProcess
}

// EtcdBinary returns the path of the external etcd binary, or "" if none is
// installed.
func EtcdBinary() string {
	if p, err := exec.LookPath("etcd"); err == nil {
		return p
	}
	for _, p := range etcdCandidates {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// StartEtcd starts an external etcd on free loopback ports with its data in
// t.TempDir(), waits until it is healthy and returns its client endpoint. It
// is stopped in t.Cleanup. Without an etcd binary the test is skipped with a
// message saying how to install one, or fails when env CI=true.
func StartEtcd(t testing.TB) (endpoint string) {
	t.Helper()
	return StartEtcdProcess(t).Endpoint
}

// StartEtcdProcess is StartEtcd returning the handle, for tests that stop and
// restart the server.
func StartEtcdProcess(t testing.TB) *EtcdProcess {
	t.Helper()
	bin := EtcdBinary()
	if bin == "" {
		msg := "external etcd not found (looked in PATH and " + strings.Join(etcdCandidates, ", ") +
			"): install it with `apt-get install -y etcd-server` or `make deps`"
		if InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ports := FreePorts(t, 2)
	dataDir := filepath.Join(t.TempDir(), "etcd")
	proc := etcdServer(bin, dataDir, ports[0], ports[1])
	p := &EtcdProcess{Endpoint: proc.addr, DataDir: dataDir, t: t, proc: proc}
	t.Cleanup(p.Stop)
	p.Start()
	return p
}

// Start launches the server (again) on the same ports and data directory and
// waits until it is healthy. It fails the test if etcd does not come up.
func (p *EtcdProcess) Start() {
	p.t.Helper()
	if err := p.proc.start(); err != nil {
		p.t.Fatal(err)
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 10s) and keeps the
// data directory. Safe to call when already stopped.
func (p *EtcdProcess) Stop() { p.proc.stop() }

// Output returns the last bytes etcd wrote, for failure messages.
func (p *EtcdProcess) Output() string { return p.proc.output() }

// etcdServer describes a single-member etcd serving clients on clientPort
// and peers on peerPort, with its data in dataDir; it is not started yet.
func etcdServer(binary, dataDir string, clientPort, peerPort int) *serverProcess {
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	return &serverProcess{
		name:   "etcd",
		addr:   endpoint,
		binary: binary,
		args: []string{
			"--name", "test",
			"--data-dir", dataDir,
			"--listen-client-urls", endpoint,
			"--advertise-client-urls", endpoint,
			"--listen-peer-urls", peer,
			"--initial-advertise-peer-urls", peer,
			"--initial-cluster", "test=" + peer,
			"--initial-cluster-state", "new",
			"--logger", "zap",
			"--log-outputs", "stderr",
			"--log-level", "warn",
			// Small snapshots keep restarts fast; tests write little data.
			"--snapshot-count", "5000",
		},
		grace: 10 * time.Second,
		ready: func(exited <-chan struct{}) error { return waitEtcdHealthy(endpoint, exited) },
	}
}

// LaunchEtcd starts an external etcd outside of a test (for benchmark
// programs): free loopback ports, data in dataDir. It returns once etcd is
// healthy; stop terminates it and keeps dataDir.
func LaunchEtcd(dataDir string) (endpoint string, stop func(), err error) {
	bin := EtcdBinary()
	if bin == "" {
		return "", nil, fmt.Errorf("external etcd not found: install it with `apt-get install -y etcd-server`")
	}
	ports, err := freePorts(2)
	if err != nil {
		return "", nil, err
	}
	proc := etcdServer(bin, dataDir, ports[0], ports[1])
	if err := proc.start(); err != nil {
		return "", nil, err
	}
	return proc.addr, proc.stop, nil
}

// waitEtcdHealthy polls /health until etcd reports healthy, the process
// exits, or etcdStartTimeout passes.
func waitEtcdHealthy(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	return pollReady("etcd", etcdStartTimeout, 50*time.Millisecond, exited, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"true"`)) {
			return nil
		}
		return fmt.Errorf("health %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	})
}
