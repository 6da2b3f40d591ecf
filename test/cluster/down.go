package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Down removes everything the cluster made, in an order that works after
// a failed run too: pods deleted through the API while the kubelets still
// run (so CNI DEL runs), the sandboxes' network namespaces noted, every
// process killed (components, then container shims and container
// processes found by the cluster's directory and cgroup roots), mounts
// under the cluster's directory unmounted, the kubelets' cgroups removed,
// the sandboxes' namespaces and the directory deleted. The node, control
// plane and fabric namespaces are deleted afterwards by their own cleanups.
// Set TRICOLOR_CLUSTER_KEEP=1 to keep the directory (logs) after a failure.
// A run whose process died before Down is swept by the next Up (sweep.go).
func (c *Cluster) Down() {
	if c.Kube != nil && c.allRunning() {
		c.deleteAllPods(45 * time.Second)
	}
	var sandboxNetns []string
	for _, n := range c.Nodes {
		sandboxNetns = append(sandboxNetns, sandboxNetnsPaths(n.dirs.containerdSock())...)
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(10 * time.Second)
	}
	var roots []string
	for _, n := range c.Nodes {
		roots = append(roots, n.CgroupRoot)
	}
	killLeftovers(c.Dir, roots)
	unmountUnder(c.Dir)
	removeCgroups(roots)
	for _, p := range sandboxNetns {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
		_ = os.Remove(p)
	}
	if c.t.Failed() && os.Getenv("TRICOLOR_CLUSTER_KEEP") != "" {
		// Torn down: only files remain, which the next run must not sweep.
		_ = os.Remove(filepath.Join(c.Dir, runRecordFile))
		c.t.Logf("cluster directory kept: %s", c.Dir)
		return
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		c.t.Logf("cluster tear-down: %v", err)
	}
}

// allRunning reports whether every component is still running.
func (c *Cluster) allRunning() bool {
	for _, p := range c.procs {
		if p.exited() {
			return false
		}
	}
	return len(c.procs) > 0
}

// deleteAllPods deletes every pod with grace 0 and waits (bounded) until
// the kubelets have torn them down.
func (c *Cluster) deleteAllPods(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	zero := int64(0)
	nss, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, ns := range nss.Items {
		_ = c.Kube.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	}
	for ctx.Err() == nil {
		pods, err := c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) == 0 {
			return
		}
		time.Sleep(time.Second)
	}
}

// sandboxNetnsPaths lists the network namespace files of the containers a
// containerd knows (read from their OCI specs with ctr).
func sandboxNetnsPaths(sock string) []string {
	if _, err := os.Stat(sock); err != nil {
		return nil
	}
	out, err := testutil.Run("ctr", "--address", sock, "-n", "k8s.io", "containers", "ls", "-q")
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var paths []string
	for _, id := range strings.Fields(out) {
		info, err := testutil.Run("ctr", "--address", sock, "-n", "k8s.io", "containers", "info", id)
		if err != nil {
			continue
		}
		var ci struct {
			Spec struct {
				Linux struct {
					Namespaces []struct{ Type, Path string }
				}
			}
		}
		if json.Unmarshal([]byte(info), &ci) != nil {
			continue
		}
		for _, ns := range ci.Spec.Linux.Namespaces {
			if ns.Type == "network" && (strings.HasPrefix(ns.Path, "/var/run/netns/") || strings.HasPrefix(ns.Path, "/run/netns/")) {
				if !seen[ns.Path] {
					seen[ns.Path] = true
					paths = append(paths, ns.Path)
				}
			}
		}
	}
	return paths
}

// killLeftovers SIGKILLs processes that belong to the cluster but outlived
// their parents: containerd shims (their command line names the cluster's
// directory) and container processes (in a cgroup under one of roots).
func killLeftovers(dir string, roots []string) {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		ours := strings.Contains(string(cmdline), dir)
		for _, r := range roots {
			ours = ours || strings.Contains(string(cg), ":"+r+"/") || strings.Contains(string(cg), ":"+r+"\n")
		}
		if ours {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	time.Sleep(200 * time.Millisecond)
}

// unmountUnder lazily unmounts every mount point below dir, deepest first
// (overlay root filesystems, shm, projected volumes).
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// makeCgroups creates root in every cgroup hierarchy (the kubelet
// requires its cgroupRoot to exist); a new cpuset gets its parent's CPUs
// and memory nodes, without which no task could join it.
func makeCgroups(root string) error {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hierarchies {
		dir := filepath.Join(h, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		if filepath.Base(h) != "cpuset" {
			continue
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := os.ReadFile(filepath.Join(h, f))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
				return fmt.Errorf("cgroup %s: %s: %w", dir, f, err)
			}
		}
	}
	return nil
}

// removeCgroups removes each root's cgroup directories in every v1
// hierarchy and the unified one, children first.
func removeCgroups(roots []string) {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hierarchies {
		for _, r := range roots {
			top := filepath.Join(h, r)
			var dirs []string
			_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
			for _, d := range dirs {
				_ = os.Remove(d)
			}
		}
	}
}
