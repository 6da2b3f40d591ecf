package testutil

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// shServer is a serverProcess running script under /bin/sh, ready once its
// output contains "up".
func shServer(script string, grace time.Duration) *serverProcess {
	p := &serverProcess{name: "sh", addr: "nowhere", binary: "/bin/sh", args: []string{"-c", script}, grace: grace}
	p.ready = func(exited <-chan struct{}) error {
		return pollReady("sh", 5*time.Second, 10*time.Millisecond, exited, func(context.Context) error {
			if strings.Contains(p.log.Tail(100), "up") {
				return nil
			}
			return errors.New("no \"up\" yet")
		})
	}
	return p
}

func TestServerProcess_ExitBeforeReadyReportsOutput(t *testing.T) {
	p := shServer("echo boom; exit 3", time.Second)
	err := p.start()
	if err == nil {
		t.Fatal("start succeeded for a process that exits at once")
	}
	for _, want := range []string{"sh at nowhere did not become ready", "exited before becoming ready", "boom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error %q does not contain %q", err, want)
		}
	}
	if p.cmd != nil {
		t.Error("a process that failed to start is still recorded as running")
	}
}

func TestServerProcess_StopKillsAfterGraceAndRestarts(t *testing.T) {
	// The shell ignores SIGTERM and the ignore survives exec, so only the
	// SIGKILL after grace ends it.
	p := shServer(`trap '' TERM; echo up; exec sleep 60`, 200*time.Millisecond)
	defer p.stop()
	for run := 1; run <= 2; run++ {
		if err := p.start(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		begin := time.Now()
		p.stop()
		if took := time.Since(begin); took < 200*time.Millisecond || took > 5*time.Second {
			t.Fatalf("run %d: stop took %s; want SIGKILL after the 200ms grace", run, took)
		}
		if !strings.Contains(p.output(), "up") {
			t.Fatalf("run %d: output %q lacks the run's own output", run, p.output())
		}
	}
}

func TestLockedBuffer_StaysBoundedAndResets(t *testing.T) {
	var b LockedBuffer
	chunk := bytes.Repeat([]byte("x"), 1<<16)
	for i := 0; i < 64; i++ {
		b.Write(chunk)
	}
	if n := len(b.String()); n > 1<<20+1<<16 {
		t.Fatalf("buffer holds %d bytes; want at most ~1MiB", n)
	}
	if got := b.Tail(3); got != "xxx" {
		t.Fatalf("Tail(3) = %q; want \"xxx\"", got)
	}
	b.Reset()
	b.Write([]byte("new"))
	if got := b.String(); got != "new" {
		t.Fatalf("after Reset and one write: %q; want \"new\"", got)
	}
}
