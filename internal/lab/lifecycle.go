package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Process roles.
const (
	RoleEtcd = "etcd"
	RoleNode = "calico-node"
)

// StopNode stops a node's calico-node (SIGTERM, then SIGKILL), as a node
// agent crash or upgrade would. The node's namespace, pods and routes stay:
// the network keeps working while the agent is down.
func (l *Lab) StopNode(ctx context.Context, node string) error {
	if _, ok := l.nodeByName(node); !ok {
		return fmt.Errorf("node %q is not a node of lab %s", node, l.st.RunID)
	}
	return l.stopRole(RoleNode, node)
}

// StartNode starts a node's calico-node again (after StopNode, or after it
// died) and waits until its startup is done.
func (l *Lab) StartNode(ctx context.Context, node string) error {
	unlock, err := l.reload()
	if err != nil {
		return err
	}
	defer unlock()
	idx := -1
	for i, n := range l.st.Topology.Nodes {
		if n.Name == node {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("node %q is not a node of lab %s", node, l.st.RunID)
	}
	if p, ok := l.process(RoleNode, node); ok && p.alive() {
		return fmt.Errorf("calico-node on %s is already running (pid %d)", node, p.PID)
	}
	l.dropProcess(RoleNode, node)
	// Startup writes the nodename file last: remove it so the wait below
	// sees this run's startup, not the previous one's.
	_ = os.Remove(filepath.Join(l.nodeStateDir(node), "nodename"))
	if err := l.startNode(idx); err != nil {
		return err
	}
	return l.waitNodesReady(ctx, node)
}

// StopDatastore stops the lab's etcd; its data stays in the run directory.
func (l *Lab) StopDatastore(ctx context.Context) error {
	return l.stopRole(RoleEtcd, "etcd")
}

// StartDatastore starts the lab's etcd again on the same data and waits
// until it is healthy.
func (l *Lab) StartDatastore(ctx context.Context) error {
	unlock, err := l.reload()
	if err != nil {
		return err
	}
	defer unlock()
	if p, ok := l.process(RoleEtcd, "etcd"); ok && p.alive() {
		return fmt.Errorf("the datastore is already running (pid %d)", p.PID)
	}
	l.dropProcess(RoleEtcd, "etcd")
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return l.startDatastore(wctx)
}

// stopRole stops the recorded process and forgets it.
func (l *Lab) stopRole(role, name string) error {
	unlock, err := l.reload()
	if err != nil {
		return err
	}
	defer unlock()
	p, ok := l.process(role, name)
	if !ok {
		return fmt.Errorf("lab %s has no %s process for %s", l.st.RunID, role, name)
	}
	if p.alive() {
		if err := stopPIDs([]int{p.PID}, stopGrace); err != nil {
			return fmt.Errorf("stop %s on %s: %w", role, name, err)
		}
	}
	l.dropProcess(role, name)
	return l.st.save()
}

// process returns the recorded process with role and name.
func (l *Lab) process(role, name string) (Process, bool) {
	for _, p := range l.st.Processes {
		if p.Role == role && p.Name == name {
			return p, true
		}
	}
	return Process{}, false
}

// dropProcess forgets the recorded process with role and name.
func (l *Lab) dropProcess(role, name string) {
	var keep []Process
	for _, p := range l.st.Processes {
		if p.Role != role || p.Name != name {
			keep = append(keep, p)
		}
	}
	l.st.Processes = keep
}
