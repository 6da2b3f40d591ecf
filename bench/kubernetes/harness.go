package main

import (
	"fmt"
	"os"
	"testing"
)

// programTB lets this program use testutil's real kube-apiserver harness
// (written for tests) outside `go test`: Fatal aborts the run through a
// panic that main recovers, Cleanup functions run (last first) when the
// program finishes, TempDir is a directory removed at the end. Only the
// methods the harness calls are implemented; the embedded nil interface
// supplies testing.TB's unexported method.
type programTB struct {
	testing.TB
	cleanups []func()
}

// fatal is the panic value of a failed harness step.
type fatal struct{ msg string }

func (p *programTB) Helper()                        {}
func (p *programTB) Name() string                   { return "bench-kubernetes" }
func (p *programTB) Cleanup(f func())               { p.cleanups = append(p.cleanups, f) }
func (p *programTB) Logf(format string, a ...any)   { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (p *programTB) Log(a ...any)                   { fmt.Fprintln(os.Stderr, a...) }
func (p *programTB) Fatal(a ...any)                 { panic(fatal{fmt.Sprint(a...)}) }
func (p *programTB) Fatalf(format string, a ...any) { panic(fatal{fmt.Sprintf(format, a...)}) }
func (p *programTB) Errorf(format string, a ...any) { panic(fatal{fmt.Sprintf(format, a...)}) }
func (p *programTB) Skip(a ...any)                  { panic(fatal{"cannot run: " + fmt.Sprint(a...)}) }

// TempDir returns a new directory removed when the program finishes.
func (p *programTB) TempDir() string {
	dir, err := os.MkdirTemp("", "tricolor-bench-kubernetes-")
	if err != nil {
		p.Fatal(err)
	}
	p.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// close runs the cleanups, last registered first.
func (p *programTB) close() {
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
	p.cleanups = nil
}
