package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// runRecord is what a cluster writes into its directory so that a later
// run can remove it if its test process died without tearing it down
// (killed, or `go test -timeout`, which skips cleanups): the owner's PID,
// the lab namespaces and the kubelets' cgroup roots.
type runRecord struct {
	PID         int      `json:"pid"`
	Namespaces  []string `json:"namespaces"`
	CgroupRoots []string `json:"cgroupRoots"`
}

const runRecordFile = "run.json"

// saveRecord writes the cluster's run record.
func (c *Cluster) saveRecord() error {
	r := runRecord{PID: os.Getpid(), Namespaces: []string{c.fabric.NS.Name, c.ControlPlane.Name}}
	for _, n := range c.Nodes {
		r.Namespaces = append(r.Namespaces, n.NS.Name)
		r.CgroupRoots = append(r.CgroupRoots, n.CgroupRoot)
	}
	b, _ := json.Marshal(r)
	return os.WriteFile(filepath.Join(c.Dir, runRecordFile), b, 0o644)
}

// sweepStale removes clusters whose test process is gone: their
// components died with it (they run with a parent-death signal), but
// container shims and processes, mounts, cgroups and namespaces remain.
// Sandbox namespaces of such a run cannot be told apart from others'
// and are left.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "tc-cluster-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, runRecordFile))
		if err != nil {
			continue
		}
		var r runRecord
		if json.Unmarshal(b, &r) != nil || r.PID == 0 || syscall.Kill(r.PID, 0) != syscall.ESRCH {
			continue
		}
		killLeftovers(dir, r.CgroupRoots)
		unmountUnder(dir)
		removeCgroups(r.CgroupRoots)
		for _, ns := range r.Namespaces {
			_, _ = testutil.Run("ip", "netns", "del", ns)
		}
		_ = os.RemoveAll(dir)
	}
}
