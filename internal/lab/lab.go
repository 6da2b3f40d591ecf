package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/internal/client"
)

// nodeReadyTimeout bounds how long calico-node startup may take.
const nodeReadyTimeout = 60 * time.Second

// Options are the settings of Up and Open that are not topology.
type Options struct {
	// RunRoot holds the run directories (ResolveRunRoot's default).
	RunRoot string
	// RunID names the run; empty picks a random one (Up) or the only run
	// under RunRoot (Open).
	RunID string
	// Bins are the binaries to run (FindBinaries).
	Bins Binaries
	// KeepOnFailure leaves a half-built lab in place when Up fails, for
	// inspection; by default Up removes it.
	KeepOnFailure bool
	// Progress, when set, receives one line per step.
	Progress func(string)
}

// Lab is a running lab: its state and how to reach it.
type Lab struct {
	st   *State
	opts Options
}

// RunID is the run's ID.
func (l *Lab) RunID() string { return l.st.RunID }

// Dir is the run directory (state.json, logs/, nodes/, etcd/).
func (l *Lab) Dir() string { return l.st.Dir }

// State returns a copy of the run's state.
func (l *Lab) State() State {
	s := *l.st
	s.Pods = append([]Pod(nil), l.st.Pods...)
	s.Processes = append([]Process(nil), l.st.Processes...)
	s.Namespaces = append([]string(nil), l.st.Namespaces...)
	return s
}

func (l *Lab) progress(format string, a ...any) {
	if l.opts.Progress != nil {
		l.opts.Progress(fmt.Sprintf(format, a...))
	}
}

// Up builds the lab the topology describes: fabric, datastore, nodes with
// calico-node running and ready, then the topology's pods. On failure it
// removes what it made (unless KeepOnFailure) and returns an error that
// includes the failing process's log.
func Up(ctx context.Context, topo *Topology, opts Options) (*Lab, error) {
	if err := topo.Resolve(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("calico-lab up needs root: it creates network namespaces, veths and bridges")
	}
	opts.RunRoot = ResolveRunRoot(opts.RunRoot)
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if err := ValidateRunID(opts.RunID); err != nil {
		return nil, err
	}
	if opts.Bins.Node == "" || opts.Bins.CNI == "" || opts.Bins.Lab == "" {
		return nil, errors.New("lab: binaries for calico-node, calico and calico-lab are required (see FindBinaries)")
	}
	if topo.Datastore == DatastoreExternal && opts.Bins.Etcd == "" {
		return nil, errors.New("datastore: external needs Debian's etcd (apt-get install -y etcd-server)")
	}
	dir := RunDir(opts.RunRoot, opts.RunID)
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("lab run %s already exists in %s; pick another --id or run `calico-lab down --id %s`", opts.RunID, dir, opts.RunID)
	}
	if left, _ := listNetns(runPrefix(opts.RunID)); len(left) > 0 {
		return nil, fmt.Errorf("namespaces %v of run %s are still there; run `calico-lab down --id %s`", left, opts.RunID, opts.RunID)
	}
	if _, err := os.Stat(client.DefaultConfigPath); err == nil {
		return nil, fmt.Errorf("%s exists: calico-node and calicoctl would read it instead of the lab's ETCD_ENDPOINTS; move it away while the lab runs", client.DefaultConfigPath)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	l := &Lab{opts: opts, st: &State{RunID: opts.RunID, Dir: dir, Created: time.Now(), Topology: *topo, Bins: opts.Bins}}
	if err := l.st.save(); err != nil {
		return nil, err
	}
	unlock, err := lockRun(dir)
	if err != nil {
		return nil, err
	}
	err = l.build(ctx)
	unlock()
	if err != nil {
		if !opts.KeepOnFailure {
			if derr := Down(context.Background(), opts.RunRoot, opts.RunID); derr != nil {
				err = fmt.Errorf("%w\n(cleanup after the failure also failed: %v)", err, derr)
			}
		} else {
			err = fmt.Errorf("%w\n(lab %s left in place: `calico-lab down --id %s` removes it)", err, opts.RunID, opts.RunID)
		}
		return nil, err
	}
	for _, p := range topo.Pods {
		if _, err := l.AddPod(ctx, p); err != nil {
			if !opts.KeepOnFailure {
				_ = Down(context.Background(), opts.RunRoot, opts.RunID)
			}
			return nil, err
		}
	}
	return l, nil
}

// build makes the fabric, datastore and nodes, saving the state after each
// thing it creates.
func (l *Lab) build(ctx context.Context) error {
	t := &l.st.Topology
	l.progress("fabric %s: %d subnet(s), datastore address %s", FabricNetns(l.st.RunID), len(t.Subnets), EtcdAddr)
	if err := l.makeFabric(ctx); err != nil {
		return err
	}
	for i := range t.Nodes {
		if err := l.makeNodeNetns(ctx, i); err != nil {
			return err
		}
	}
	for i := range t.ExternalHosts {
		if err := l.makeExternalHost(ctx, i); err != nil {
			return err
		}
	}
	l.progress("datastore: %s etcd in %s", t.Datastore, FabricNetns(l.st.RunID))
	if err := l.startDatastore(ctx); err != nil {
		return err
	}
	l.progress("calico-node: starting %d node(s)", len(t.Nodes))
	for i := range t.Nodes {
		if err := l.startNode(i); err != nil {
			return err
		}
	}
	return l.waitNodesReady(ctx)
}

// Open finds a running lab: the one with opts.RunID, or the only one under
// the run root.
func Open(opts Options) (*Lab, error) {
	opts.RunRoot = ResolveRunRoot(opts.RunRoot)
	if opts.RunID == "" {
		ids, err := ListRuns(opts.RunRoot)
		if err != nil {
			return nil, err
		}
		switch len(ids) {
		case 0:
			return nil, fmt.Errorf("no lab is up (nothing in %s); start one with `calico-lab up`", opts.RunRoot)
		case 1:
			opts.RunID = ids[0]
		default:
			return nil, fmt.Errorf("several labs are up (%s); choose one with --id", strings.Join(ids, ", "))
		}
	}
	st, err := LoadState(RunDir(opts.RunRoot, opts.RunID))
	if err != nil {
		return nil, err
	}
	opts.Bins = st.Bins
	return &Lab{st: st, opts: opts}, nil
}

// reload re-reads the state under the run lock (another command may have
// changed it); the returned function releases the lock.
func (l *Lab) reload() (func(), error) {
	unlock, err := lockRun(l.st.Dir)
	if err != nil {
		return nil, err
	}
	st, err := LoadState(l.st.Dir)
	if err != nil {
		unlock()
		return nil, err
	}
	l.st = st
	return unlock, nil
}

// Client opens a datastore client on the lab's etcd through a forwarder on
// the root namespace's loopback (no route into the lab is added). Call the
// returned function to close both.
func (l *Lab) Client(ctx context.Context) (*client.Client, func(), error) {
	addr, stop, err := forwardFromLoopback(FabricNetns(l.st.RunID), fmt.Sprintf("127.0.0.1:%d", EtcdPort))
	if err != nil {
		return nil, nil, err
	}
	c, closeDS, err := client.Open(ctx, &client.Config{Source: "calico-lab " + l.st.RunID, CalicoAPIConfigSpec: client.CalicoAPIConfigSpec{
		DatastoreType: client.DatastoreEtcdV3, EtcdConfig: client.EtcdConfig{EtcdEndpoints: "http://" + addr}}})
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("connect to lab %s's datastore: %w", l.st.RunID, err)
	}
	return c, func() { _ = closeDS(); stop() }, nil
}

// nodeStateDir is a node's /var/lib/calico.
func (l *Lab) nodeStateDir(node string) string { return filepath.Join(l.st.Dir, "nodes", node) }

// nodeRunDir is where a node's calico-node keeps its sockets (the BGP
// status socket calicoctl node status reads): one per node, since the
// nodes share the machine's filesystem.
func (l *Lab) nodeRunDir(node string) string { return filepath.Join(l.nodeStateDir(node), "run") }

// nodeByName returns the topology node named name.
func (l *Lab) nodeByName(name string) (Node, bool) {
	for _, n := range l.st.Topology.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// removeAllExisting removes a path, ignoring a missing one.
func removeAllExisting(path string) error {
	if err := os.RemoveAll(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
