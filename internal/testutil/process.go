package testutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverProcess is an external server (etcd, kube-apiserver) run as a child
// process: start launches it with the same command line each time and waits
// until it is ready, stop terminates it, and its output is kept for failure
// messages. At most one copy runs at a time. EtcdProcess and KubeAPIServer
// (tests) and LaunchEtcd (benchmarks) are built on it.
type serverProcess struct {
	name   string        // what runs, for messages: "etcd"
	addr   string        // where it serves, for messages
	binary string        // the executable
	args   []string      // its command line, the same on every start
	grace  time.Duration // how long stop waits after SIGTERM before SIGKILL
	// ready blocks until the server answers, or returns why it does not;
	// exited closes if the process dies first.
	ready func(exited <-chan struct{}) error

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closes once cmd has been waited for
	log  *LockedBuffer
}

// start launches the process unless it is already running and waits for
// ready. When the server does not come up it is stopped again and the
// error carries the end of its output.
func (p *serverProcess) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	p.log = &LockedBuffer{}
	cmd := exec.Command(p.binary, p.args...)
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = p.log, p.log
	// Kill the server if our process dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s %s: %w", p.name, p.binary, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	if err := p.ready(done); err != nil {
		p.stopLocked()
		return fmt.Errorf("%s at %s did not become ready: %w\n--- %s output ---\n%s",
			p.name, p.addr, err, p.name, p.log.Tail(6000))
	}
	return nil
}

// stop terminates the process (SIGTERM, then SIGKILL after grace) and
// returns once it is gone. Safe to call when already stopped.
func (p *serverProcess) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *serverProcess) stopLocked() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(p.grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd, p.done = nil, nil
}

// output returns the last bytes the process wrote in its latest run, for
// failure messages.
func (p *serverProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log == nil {
		return ""
	}
	return p.log.Tail(8000)
}

// pollReady calls probe every interval until it returns nil, the process
// exits (exited closes) or timeout passes; the error names the last failed
// probe. Each probe gets a context that ends with the timeout.
func pollReady(name string, timeout, interval time.Duration, exited <-chan struct{}, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		last := probe(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before becoming ready (last check: %v)", name, last)
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s (last check: %v)", timeout, last)
		case <-time.After(interval):
		}
	}
}

// serverEnv is our environment without ETCD_* and ETCDCTL_* variables,
// which etcd would read as flags and which could point a test server at a
// developer's real cluster.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

// LockedBuffer collects the output of processes that write from their own
// goroutines (exec's copiers, plugin invocations) while a test reads it.
// It keeps the last 512 KiB to 1 MiB, so long runs stay bounded. The zero
// value is ready to use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p, dropping the oldest output beyond 1 MiB.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		rest := b.buf.Bytes()[b.buf.Len()-(1<<19):]
		b.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return b.buf.Write(p)
}

// String returns everything kept so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail returns at most the last n bytes, for failure messages.
func (b *LockedBuffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// Reset discards what was written so far.
func (b *LockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
