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
	"sync"
	"syscall"
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

	t          testing.TB
	binary     string
	clientPort int
	peerPort   int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
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
	p := &EtcdProcess{
		Endpoint:   fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		DataDir:    filepath.Join(t.TempDir(), "etcd"),
		t:          t,
		binary:     bin,
		clientPort: ports[0],
		peerPort:   ports[1],
	}
	t.Cleanup(p.Stop)
	p.Start()
	return p
}

// Start launches the server (again) on the same ports and data directory and
// waits until it is healthy. It fails the test if etcd does not come up.
func (p *EtcdProcess) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	p.log = &lockedBuffer{}
	cmd, done, err := launchEtcd(p.binary, p.DataDir, p.Endpoint, p.peerPort, p.log)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd, p.done = cmd, done
	if err := waitEtcdHealthy(p.Endpoint, done); err != nil {
		p.stopLocked()
		p.t.Fatalf("etcd at %s did not become healthy: %v\n--- etcd output ---\n%s", p.Endpoint, err, p.log.tail(4000))
	}
}

// launchEtcd starts a single-member etcd serving endpoint, with its peer
// URL on peerPort and all output going to log. done closes when it exits.
func launchEtcd(binary, dataDir, endpoint string, peerPort int, log io.Writer) (*exec.Cmd, chan struct{}, error) {
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	args := []string{
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
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = etcdFreeEnv()
	cmd.Stdout = log
	cmd.Stderr = log
	// Kill etcd if our process dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start etcd %s: %w", binary, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return cmd, done, nil
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
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	log := &lockedBuffer{}
	cmd, done, err := launchEtcd(bin, dataDir, endpoint, ports[1], log)
	if err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	if err := waitEtcdHealthy(endpoint, done); err != nil {
		stop()
		return "", nil, fmt.Errorf("etcd at %s did not become healthy: %w\n%s", endpoint, err, log.tail(4000))
	}
	return endpoint, stop, nil
}

// Stop terminates the server (SIGTERM, then SIGKILL after 10s) and keeps the
// data directory. Safe to call when already stopped.
func (p *EtcdProcess) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *EtcdProcess) stopLocked() {
	if p.cmd == nil {
		return
	}
	terminate(p.cmd, p.done, 10*time.Second)
	p.cmd, p.done = nil, nil
}

// Output returns the last bytes etcd wrote, for failure messages.
func (p *EtcdProcess) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log == nil {
		return ""
	}
	return p.log.tail(8000)
}

// waitEtcdHealthy polls /health until etcd reports healthy, the process
// exits, or etcdStartTimeout passes.
func waitEtcdHealthy(endpoint string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), etcdStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"true"`)) {
				return nil
			}
			err = fmt.Errorf("health %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("etcd exited before becoming healthy (last check: %v)", last)
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s (last check: %v)", etcdStartTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// etcdFreeEnv is the environment without ETCD_* variables, which etcd would
// read as flags and which could point it at a developer's real cluster.
func etcdFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// lockedBuffer collects process output; exec writes from its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep memory bounded for long tests.
	if b.buf.Len() > 1<<20 {
		rest := b.buf.Bytes()[b.buf.Len()-(1<<19):]
		b.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
