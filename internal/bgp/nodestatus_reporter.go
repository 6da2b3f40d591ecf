package bgp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// SnapshotFunc returns the state a CalicoNodeStatus report is built from
// (Agent.Snapshot).
type SnapshotFunc func(ctx context.Context) (Snapshot, error)

// NodeStatusReporter writes the status of every CalicoNodeStatus whose
// spec.node is this node, as Calico's calico-node does: one report right
// away and then every spec.updatePeriodSeconds (0: no reports), each a
// compare-and-swap update of the resource as just read. A spec change
// restarts the resource's schedule; a deleted resource, or one moved to
// another node, stops it.
type NodeStatusReporter struct {
	node     string
	client   *client.Client
	snapshot SnapshotFunc
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	specs   map[string]v3.CalicoNodeStatusSpec
	changed chan struct{}
}

// NewNodeStatusReporter returns a reporter for node writing through c.
func NewNodeStatusReporter(node string, c *client.Client, snapshot SnapshotFunc, log *slog.Logger) *NodeStatusReporter {
	if log == nil {
		log = slog.Default()
	}
	return &NodeStatusReporter{
		node: node, client: c, snapshot: snapshot, now: time.Now,
		log:     log.With("component", "bgp-nodestatus", "node", node),
		specs:   map[string]v3.CalicoNodeStatusSpec{},
		changed: make(chan struct{}, 1),
	}
}

// OnStatusUpdated is part of datastore.SyncerCallbacks; nothing to do.
func (r *NodeStatusReporter) OnStatusUpdated(datastore.SyncStatus) {}

// OnUpdates records the specs of this node's CalicoNodeStatus resources.
// Our own status writes arrive here too; they leave the spec unchanged and
// so do not disturb the schedule.
func (r *NodeStatusReporter) OnUpdates(us []datastore.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range us {
		name := u.Key.Name
		if u.UpdateType == datastore.UpdateTypeDeleted {
			delete(r.specs, name)
			continue
		}
		var cns v3.CalicoNodeStatus
		if err := json.Unmarshal(u.Value, &cns); err != nil {
			r.log.Warn("ignoring undecodable CalicoNodeStatus", "name", name, "err", err)
			continue
		}
		if cns.Spec.Node != r.node {
			delete(r.specs, name)
			continue
		}
		r.specs[name] = cns.Spec
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Run watches CalicoNodeStatus resources and reports until ctx ends.
func (r *NodeStatusReporter) Run(ctx context.Context) {
	syncer := datastore.NewSyncer(r.client.Backend(), []datastore.ListOptions{{Kind: v3.KindCalicoNodeStatus}}, r)
	syncer.Log = r.log
	synced := make(chan struct{})
	go func() { defer close(synced); syncer.Run(ctx) }()
	defer func() { <-synced }()

	type task struct {
		spec   v3.CalicoNodeStatusSpec
		cancel context.CancelFunc
		done   chan struct{}
	}
	tasks := map[string]*task{}
	defer func() {
		for _, t := range tasks {
			t.cancel()
			<-t.done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
		}
		r.mu.Lock()
		specs := make(map[string]v3.CalicoNodeStatusSpec, len(r.specs))
		for n, s := range r.specs {
			specs[n] = s
		}
		r.mu.Unlock()
		for name, t := range tasks {
			if s, ok := specs[name]; !ok || !reflect.DeepEqual(s, t.spec) {
				t.cancel()
				<-t.done
				delete(tasks, name)
			}
		}
		for name, spec := range specs {
			if _, ok := tasks[name]; ok {
				continue
			}
			tctx, cancel := context.WithCancel(ctx)
			t := &task{spec: spec, cancel: cancel, done: make(chan struct{})}
			tasks[name] = t
			go func() { defer close(t.done); r.schedule(tctx, name, spec) }()
		}
	}
}

// schedule reports for one resource now and every updatePeriodSeconds.
func (r *NodeStatusReporter) schedule(ctx context.Context, name string, spec v3.CalicoNodeStatusSpec) {
	if spec.UpdatePeriodSeconds == nil || *spec.UpdatePeriodSeconds == 0 {
		r.log.Info("CalicoNodeStatus has updatePeriodSeconds 0; not reporting", "name", name)
		return
	}
	period := time.Duration(*spec.UpdatePeriodSeconds) * time.Second
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := r.Report(ctx, name); err != nil && ctx.Err() == nil {
			r.log.Warn("could not update CalicoNodeStatus; retrying at the next period", "name", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxReportAttempts bounds the read-modify-CAS retries of one report.
const maxReportAttempts = 3

// Report writes one status into the named CalicoNodeStatus: read it, fill
// status from a fresh snapshot for the classes its spec asks for, and
// update at the revision read (retried on a conflicting write). A resource
// that is gone or names another node is left alone.
func (r *NodeStatusReporter) Report(ctx context.Context, name string) error {
	var err error
	for attempt := 0; attempt < maxReportAttempts; attempt++ {
		var cur *v3.CalicoNodeStatus
		cur, err = client.Get[*v3.CalicoNodeStatus](ctx, r.client, "", name)
		if client.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Spec.Node != r.node {
			return nil
		}
		snap, serr := r.snapshot(ctx)
		if serr != nil {
			return fmt.Errorf("CalicoNodeStatus %s: read the BGP speaker's state: %w", name, serr)
		}
		cur.Status = BuildNodeStatus(cur.Spec.Classes, snap, r.now())
		if _, err = r.client.Update(ctx, cur); !errors.Is(err, datastore.ErrConflict) {
			return err
		}
	}
	return err
}
