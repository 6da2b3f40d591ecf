package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// kubeBinaries are built from k8s.io/kubernetes by `make k8s-bins` into
// .cache/bin (the nested module test/kube-apiserver pins the version).
var kubeBinaries = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "agnhost"}

// Binaries are the programs the cluster runs.
type Binaries struct {
	// Kube maps a Kubernetes binary name (kubeBinaries, e2e.test) to its path.
	Kube map[string]string
	// Tricolor holds calico-node, calico (also installed as calico-ipam)
	// and calico-kube-controllers when that command exists, built from
	// this checkout; it is install-cni's source directory.
	Tricolor string
	// Pause is the sandbox binary (test/cluster/pause).
	Pause string
}

// findBinaries locates the Kubernetes binaries in .cache/bin and builds
// Tricolor's and the pause binary into dir. Missing Kubernetes binaries
// skip the test with the command that builds them, or fail it under CI.
func findBinaries(t testing.TB, dir string, extra ...string) Binaries {
	t.Helper()
	root, err := testutil.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b := Binaries{Kube: map[string]string{}, Tricolor: filepath.Join(dir, "tricolor"), Pause: filepath.Join(dir, "pause", "pause")}
	var missing []string
	for _, name := range append(append([]string(nil), kubeBinaries...), extra...) {
		p := filepath.Join(root, ".cache", "bin", name)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, name)
			continue
		}
		b.Kube[name] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("Kubernetes binaries missing from .cache/bin: %s; build them with `make k8s-bins` (many minutes the first time, cached afterwards)", strings.Join(missing, ", "))
		if testutil.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	build := func(out string, env []string, pkgs ...string) {
		cmd := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), env...)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", pkgs, err, o)
		}
	}
	pkgs := []string{"./cmd/calico-node", "./cmd/calico"}
	if _, err := os.Stat(filepath.Join(root, "cmd", "calico-kube-controllers")); err == nil {
		pkgs = append(pkgs, "./cmd/calico-kube-controllers")
	}
	if err := os.MkdirAll(b.Tricolor, 0o755); err != nil {
		t.Fatal(err)
	}
	build(b.Tricolor+"/", nil, pkgs...)
	if err := os.Link(filepath.Join(b.Tricolor, "calico"), filepath.Join(b.Tricolor, "calico-ipam")); err != nil {
		t.Fatal(err)
	}
	build(b.Pause, []string{"CGO_ENABLED=0"}, "./test/cluster/pause")
	return b
}

// hasKubeControllers reports whether calico-kube-controllers was built.
func (b Binaries) hasKubeControllers() bool {
	_, err := os.Stat(filepath.Join(b.Tricolor, "calico-kube-controllers"))
	return err == nil
}
