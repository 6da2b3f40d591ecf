package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildBinary_BuildsARunnableBinary(t *testing.T) {
	bin := BuildBinary(t, "./testdata/hello")
	if filepath.Base(bin) != "hello" {
		t.Errorf("binary named %q; want hello", filepath.Base(bin))
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("%s: %q, %v; want \"hello\"", bin, out, err)
	}
}

func TestGoBuild_ErrorCarriesCompilerOutput(t *testing.T) {
	err := GoBuild(t.TempDir(), "./testdata/no-such-package")
	if err == nil || !strings.Contains(err.Error(), "no-such-package") {
		t.Fatalf("GoBuild of a missing package: %v; want an error naming it", err)
	}
}

func TestBuildCache_BuildsOnceAndRemoves(t *testing.T) {
	builds := 0
	c := &BuildCache{Prefix: "testutil-cache-", Build: func(dir string) error {
		builds++
		return os.WriteFile(filepath.Join(dir, "bin"), nil, 0o755)
	}}
	first, second := c.Dir(t), c.Dir(t)
	if first != second || builds != 1 {
		t.Fatalf("two Dir calls: dirs %q, %q and %d builds; want one dir, one build", first, second, builds)
	}
	c.Remove()
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Remove (stat: %v)", first, err)
	}
}
