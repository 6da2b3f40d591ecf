package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// StateFile is the run's state, inside the run directory.
const StateFile = "state.json"

// State is what a run made, written after every change so that any later
// command (or Down after a crash) can find it.
type State struct {
	// RunID is the run's ID (namespace prefix lab-<RunID>-).
	RunID string `json:"runID"`
	// Dir is the run directory (state, logs, node state, datastore).
	Dir string `json:"dir"`
	// Created is when `up` started.
	Created time.Time `json:"created"`
	// Topology is the resolved topology.
	Topology Topology `json:"topology"`
	// Bins are the binaries the run uses.
	Bins Binaries `json:"bins"`
	// Namespaces are the namespaces created so far.
	Namespaces []string `json:"namespaces"`
	// Processes are the long-running processes started so far.
	Processes []Process `json:"processes"`
	// Pods are the pods created and not deleted.
	Pods []Pod `json:"pods"`
}

// Process is one process the lab started.
type Process struct {
	// Role is RoleEtcd or RoleNode.
	Role string `json:"role"`
	// Name is the node name for calico-node, "etcd" for the datastore.
	Name string `json:"name"`
	// Netns is the namespace it runs in.
	Netns string `json:"netns"`
	// PID and StartTicks identify the process (a recycled PID has
	// another start time).
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"startTicks"`
	// Log is its stdout+stderr.
	Log string `json:"log"`
}

// Pod is a pod the lab created through CNI.
type Pod struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Node        string            `json:"node"`
	Labels      map[string]string `json:"labels,omitempty"`
	Netns       string            `json:"netns"`
	ContainerID string            `json:"containerID"`
	// IP is the pod's IPv4 address (no prefix).
	IP string `json:"ip"`
	// IP6 is the pod's IPv6 address in a dual-stack lab (no prefix).
	IP6 string `json:"ip6,omitempty"`
	// HostIface is the node-side veth (cali…).
	HostIface string `json:"hostIface"`
}

// Key is "<namespace>/<name>".
func (p Pod) Key() string { return p.Namespace + "/" + p.Name }

// RunDir is the directory of a run under root.
func RunDir(root, runID string) string { return filepath.Join(root, runID) }

// ResolveRunRoot returns root, else $CALICO_LAB_RUN_ROOT, else
// DefaultRunRoot.
func ResolveRunRoot(root string) string {
	if root != "" {
		return root
	}
	if r := os.Getenv(EnvRunRoot); r != "" {
		return r
	}
	return DefaultRunRoot
}

// LoadState reads a run's state file.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no lab state in %s (is the lab up? `calico-lab status` lists runs): %w", dir, err)
		}
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("lab state %s is corrupt (%v); `calico-lab down --id <id>` still cleans up by name", filepath.Join(dir, StateFile), err)
	}
	return &s, nil
}

// save writes the state atomically (temp file + rename).
func (s *State) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(s.Dir, StateFile))
}

// findPod returns the pod named ref: "name" (unique across namespaces) or
// "namespace/name".
func (s *State) findPod(ref string) (*Pod, error) {
	var matches []*Pod
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Key() == ref || p.Name == ref {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		var names []string
		for _, p := range s.Pods {
			names = append(names, p.Key())
		}
		sort.Strings(names)
		return nil, fmt.Errorf("pod %q not found in lab %s (pods: %v)", ref, s.RunID, names)
	}
	var names []string
	for _, p := range matches {
		names = append(names, p.Key())
	}
	return nil, fmt.Errorf("pod name %q is ambiguous (%v); write namespace/name", ref, names)
}

// lockRun takes an exclusive lock on the run directory so that commands
// changing the state (pod add/del, down) do not interleave. The returned
// function releases it.
func lockRun(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock lab run %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock lab run %s: %w", dir, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// ListRuns returns the run IDs that have a directory under root.
func ListRuns(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && runIDRE.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
