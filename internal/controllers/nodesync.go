package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// loopNodeSync names the node controller's second loop in logs and
// metrics.
const loopNodeSync = "node-sync"

// nodeSync is the part of the node controller that follows live Calico
// Nodes (nodeController handles deleted ones):
//
//	Calico Nodes (list + watch) ──┐
//	Kubernetes Nodes (labels) ────┼──► queue(node) ──► reconcile ──► Node labels (CAS)
//	resync: nodes + auto HEPs ────┘                               └─► HostEndpoint (CAS)
//
// Its key is the Calico node name; reconcile re-reads the Calico Node,
// then with syncLabels (etcd mode) copies the Kubernetes Node's labels onto
// it (nodelabels.go), and with autoCreate keeps its auto host endpoint
// "<node>-auto-hep" written from it, or deletes it once the node is gone
// (hostendpoints.go). Only host endpoints labelled as ours are changed.
// It runs whenever the node controller does, even with autoCreate
// disabled: resync then deletes the host endpoints it once created.
type nodeSync struct {
	m     *Manager
	c     *client.Client
	set   nodeSettings
	nodes corelisters.NodeLister
	loop  *loop
	// calicoNames maps a Kubernetes node name to the Calico Nodes that
	// refer to it (from the watch), so that a relabelled Kubernetes Node
	// reaches its Calico Nodes.
	mu          sync.Mutex
	calicoNames map[string]map[string]bool
}

func newNodeSync(m *Manager, f informers.SharedInformerFactory, cfg Config) *nodeSync {
	inf := f.Core().V1().Nodes()
	s := &nodeSync{m: m, c: client.New(m.backend), set: cfg.nodeSettings(), nodes: inf.Lister(), calicoNames: map[string]map[string]bool{}}
	s.loop = newLoop(loopNodeSync, s.reconcile, m.metrics, m.log)
	if s.set.syncLabels {
		_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: s.kubeNodeChanged,
			UpdateFunc: func(old, cur any) {
				o, okOld := old.(*corev1.Node)
				n, okNew := cur.(*corev1.Node)
				if !okOld || !okNew || !maps.Equal(o.Labels, n.Labels) {
					s.kubeNodeChanged(cur)
				}
			},
		})
	}
	return s
}

// kubeNodeChanged queues the Calico Nodes of a Kubernetes Node.
func (s *nodeSync) kubeNodeChanged(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.calicoNames[n.Name] {
		s.loop.queue.Add(name)
	}
}

func (s *nodeSync) reconcile(ctx context.Context, name string) error {
	if !s.set.syncLabels && !s.set.autoHEP {
		return nil // resync alone removes what autoCreate left
	}
	node, err := s.calicoNode(ctx, name)
	if err != nil {
		return err
	}
	if node != nil && s.set.syncLabels {
		if node, err = s.syncLabels(ctx, node); err != nil {
			return err
		}
	}
	return s.syncHostEndpoint(ctx, name, node)
}

// calicoNode reads a Calico Node; nil when it does not exist.
func (s *nodeSync) calicoNode(ctx context.Context, name string) (*v3.Node, error) {
	res, err := s.c.Get(ctx, v3.KindNode, "", name)
	if client.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Calico node %q: %w", name, err)
	}
	return res.(*v3.Node), nil
}

// resync queues every Calico Node and the node of every auto host
// endpoint. It deletes every auto host endpoint while autoCreate is
// disabled, and those under another name than "<node>-auto-hep" whose
// node is gone.
func (s *nodeSync) resync(ctx context.Context) error {
	l, err := s.m.backend.List(ctx, datastore.ListOptions{Kind: v3.KindNode})
	if err != nil {
		return fmt.Errorf("list Calico nodes: %w", err)
	}
	nodes := map[string]bool{}
	for _, kv := range l.Items {
		nodes[kv.Key.Name] = true
		s.loop.queue.Add(kv.Key.Name)
	}
	heps, err := s.autoHostEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, h := range heps {
		if s.set.autoHEP && h.Name == autoHostEndpointName(h.Spec.Node) {
			s.loop.queue.Add(h.Spec.Node)
		} else if !nodes[h.Spec.Node] || !s.set.autoHEP {
			if err := s.deleteHostEndpoint(ctx, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// watchNodes queues Calico Nodes as they change, keeping calicoNames up
// to date, until ctx ends; a failed watch is listed and watched again.
func (s *nodeSync) watchNodes(ctx context.Context) {
	if !s.set.syncLabels && !s.set.autoHEP {
		return // nothing follows live nodes
	}
	if s.set.autoHEP {
		s.warnWithoutDefaultAllow(ctx)
	}
	for failures := 0; ctx.Err() == nil; failures++ {
		start := time.Now()
		err := s.listAndWatchNodes(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > kccMaxBackoff {
			failures = 0
		}
		s.loop.log.Warn("watch of Calico nodes failed; listing again", "err", err, "retryIn", backoff(failures))
		sleep(ctx, backoff(failures))
	}
}

func (s *nodeSync) listAndWatchNodes(ctx context.Context) error {
	opts := datastore.ListOptions{Kind: v3.KindNode}
	l, err := s.m.backend.List(ctx, opts)
	if err != nil {
		return fmt.Errorf("list Calico nodes: %w", err)
	}
	for i := range l.Items {
		s.noteNode(&l.Items[i], false)
	}
	w, err := s.m.backend.Watch(ctx, opts, l.Revision)
	if err != nil {
		return fmt.Errorf("watch Calico nodes: %w", err)
	}
	defer w.Stop()
	for ev := range w.Events() {
		switch {
		case ev.Type == datastore.EventError:
			return ev.Err
		case ev.Type == datastore.EventDeleted && ev.Previous != nil:
			s.noteNode(ev.Previous, true)
		case ev.New != nil:
			s.noteNode(ev.New, false)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("the watch of Calico nodes ended")
}

// noteNode records which Kubernetes Node a Calico Node refers to (or
// forgets it when deleted) and queues it.
func (s *nodeSync) noteNode(kv *datastore.KVPair, deleted bool) {
	name := kv.Key.Name
	var n v3.Node
	ref, isK8s := "", false
	if json.Unmarshal(kv.Value, &n) == nil {
		ref, isK8s = k8sRef(&n)
	}
	s.mu.Lock()
	for k, names := range s.calicoNames {
		if names[name] && (deleted || k != ref) {
			delete(names, name)
			if len(names) == 0 {
				delete(s.calicoNames, k)
			}
		}
	}
	if isK8s && !deleted {
		if s.calicoNames[ref] == nil {
			s.calicoNames[ref] = map[string]bool{}
		}
		s.calicoNames[ref][name] = true
	}
	s.mu.Unlock()
	s.loop.queue.Add(name)
}
