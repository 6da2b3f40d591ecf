package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binaries are the programs a lab runs. The lab never links calico-node,
// the CNI plugin or calicoctl: it runs the binaries, as a cluster would.
type Binaries struct {
	// Lab is calico-lab itself, re-executed as `calico-lab serve-etcd`.
	Lab string `json:"lab"`
	// Node is calico-node.
	Node string `json:"node"`
	// CNI is the calico CNI plugin (also calico-ipam).
	CNI string `json:"cni"`
	// Ctl is calicoctl; optional (only the calicoctl passthrough needs it).
	Ctl string `json:"ctl,omitempty"`
	// Etcd is the external etcd; only needed with datastore: external.
	Etcd string `json:"etcd,omitempty"`
}

// FindBinaries resolves each binary in dir (when given), then next to the
// running executable, then in PATH. calico-lab defaults to the running
// executable. Missing required binaries are reported together, with how to
// build them.
func FindBinaries(dir string) (Binaries, error) {
	var dirs []string
	if dir != "" {
		// Absolute: the paths go into the state and the CNI plugin's
		// symlinks, which are used from other working directories.
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		dirs = append(dirs, dir)
	}
	self, _ := os.Executable()
	if self != "" {
		dirs = append(dirs, filepath.Dir(self))
	}
	find := func(name string) string {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
			return p
		}
		return ""
	}
	b := Binaries{Lab: find("calico-lab"), Node: find("calico-node"), CNI: find("calico"), Ctl: find("calicoctl"), Etcd: find("etcd")}
	if b.Lab == "" {
		b.Lab = self
	}
	if b.Etcd == "" {
		if _, err := os.Stat("/usr/bin/etcd"); err == nil {
			b.Etcd = "/usr/bin/etcd"
		}
	}
	var missing []error
	if b.Node == "" {
		missing = append(missing, errors.New("calico-node not found"))
	}
	if b.CNI == "" {
		missing = append(missing, errors.New("calico (the CNI plugin) not found"))
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("%w; build them with `go build -o bin/ ./cmd/...` and pass --bin-dir bin (searched %v and PATH)", errors.Join(missing...), dirs)
	}
	return b, nil
}
