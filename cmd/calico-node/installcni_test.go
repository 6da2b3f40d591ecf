package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `calico-node install-cni` with the container paths given as flags: the
// binaries and the conflist land in the host directories; a template with
// an unknown placeholder fails with exit code 1 and writes nothing.
func TestInstallCNISubcommand(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{}
	for _, d := range []string{"src", "bin", "net", "sa"} {
		dirs[d] = filepath.Join(root, d)
		if err := os.MkdirAll(dirs[d], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dirs["src"], "calico"), []byte("bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_NODE_NAME", "node-1")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	args := []string{"install-cni", "-source-bin-dir", dirs["src"], "-host-bin-dir", dirs["bin"], "-host-net-dir", dirs["net"], "-service-account-dir", dirs["sa"]}

	t.Setenv("CNI_NETWORK_CONFIG", `{"name":"k8s-pod-network","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","x":"__NOPE__"}]}`)
	if code := run(args); code != 1 {
		t.Errorf("unknown placeholder: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(dirs["net"], "10-calico.conflist")); err == nil {
		t.Error("a failed install wrote the conflist")
	}

	t.Setenv("CNI_NETWORK_CONFIG", `{"name":"k8s-pod-network","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","mtu":__CNI_MTU__}]}`)
	if code := run(args); code != 0 {
		t.Fatalf("exit %d", code)
	}
	conf, err := os.ReadFile(filepath.Join(dirs["net"], "10-calico.conflist"))
	if err != nil || !strings.Contains(string(conf), `"nodename":"node-1","mtu":1500`) {
		t.Errorf("conflist %s (%v)", conf, err)
	}
	if _, err := os.Stat(filepath.Join(dirs["bin"], "calico")); err != nil {
		t.Errorf("binary not installed: %v", err)
	}
}
