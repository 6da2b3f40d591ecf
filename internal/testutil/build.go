package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// GoBuild runs `go build -o dir/ args...` with the toolchain that built the
// running test, so it works where go is not on PATH (sudo). Every main
// package in args lands in dir under its default name (the last element of
// its import path; "." is named after the working directory); args may
// start with build flags such as "-ldflags=-s -w". The error carries go's
// output.
func GoBuild(dir string, args ...string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, append([]string{"build", "-o", dir + string(filepath.Separator)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// BuildBinary builds one main package (an import path, or "." for the
// package under test) into a fresh t.TempDir() and returns the binary's
// path. It fails the test when the package does not build.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	if err := GoBuild(dir, pkg); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("go build %s: want one binary in %s, found %d entries (%v)", pkg, dir, len(entries), err)
	}
	return filepath.Join(dir, entries[0].Name())
}

// BuildCache builds binaries once per test binary, on first use, into a
// temporary directory shared by all its tests. TestMain removes it after
// m.Run:
//
//	var bins = &testutil.BuildCache{Prefix: "x-bin-", Build: func(dir string) error {
//		return testutil.GoBuild(dir, "github.com/tricolor-net/tricolor/cmd/calico")
//	}}
//
//	func TestMain(m *testing.M) { code := m.Run(); bins.Remove(); os.Exit(code) }
type BuildCache struct {
	// Prefix starts the temporary directory's name.
	Prefix string
	// Build fills dir with the binaries; it runs at most once.
	Build func(dir string) error

	once sync.Once
	dir  string
	err  error
}

// Dir builds the binaries on the first call and returns their directory. It
// fails the test when the build failed (on this or an earlier call).
func (c *BuildCache) Dir(t testing.TB) string {
	t.Helper()
	c.once.Do(func() {
		if c.dir, c.err = os.MkdirTemp("", c.Prefix); c.err == nil {
			c.err = c.Build(c.dir)
		}
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.dir
}

// Remove deletes the directory, if one was made.
func (c *BuildCache) Remove() {
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}
