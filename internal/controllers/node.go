package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// nodeController cleans up after deleted Kubernetes Nodes. Its key is the
// Kubernetes node name; reconcile acts only when the API server confirms
// the Node is gone:
//
//  1. etcd mode: the Calico Nodes that refer to it are deleted (name equal,
//     or an orchRef {orchestrator: k8s, nodeName}); Calico Nodes without a
//     Kubernetes orchRef belong to hosts outside Kubernetes and are kept;
//  2. the addresses allocated on it whose owners are gone (pods deleted,
//     its tunnel addresses) are released, each guarded by its handle and
//     sequence number;
//  3. its block affinities are released: empty blocks are deleted, blocks
//     still holding live pods' addresses become unowned until those go.
type nodeController struct {
	m    *Manager
	o    *owners
	loop *loop
}

func newNodeController(m *Manager, f informers.SharedInformerFactory, o *owners) *nodeController {
	c := &nodeController{m: m, o: o}
	c.loop = newLoop(ControllerNode, c.reconcile, m.metrics, m.log)
	_, _ = f.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.loop.enqueue})
	return c
}

func (c *nodeController) reconcile(ctx context.Context, name string) error {
	exists, err := c.o.k8sNodeExists(ctx, name)
	if err != nil || exists {
		return err
	}
	calicoNames := []string{name}
	if !c.m.cfg.Kubernetes {
		if calicoNames, err = c.deleteCalicoNodes(ctx, name); err != nil {
			return err
		}
	}
	for _, cn := range calicoNames {
		if err := c.releaseAddresses(ctx, cn); err != nil {
			return err
		}
		if err := c.m.ipam.ReleaseHostAffinities(ctx, cn, false); err != nil {
			return fmt.Errorf("node %q: release block affinities: %w", cn, err)
		}
	}
	c.m.metrics.nodes.Inc()
	c.m.log.Info("cleaned up after deleted node", "node", name, "calicoNodes", calicoNames)
	return nil
}

// deleteCalicoNodes deletes the Calico Nodes of Kubernetes node k8sName
// and returns their names (k8sName itself when none is left, so that IPAM
// data of an already-deleted Calico Node is still cleaned).
func (c *nodeController) deleteCalicoNodes(ctx context.Context, k8sName string) ([]string, error) {
	l, err := c.m.backend.List(ctx, datastore.ListOptions{Kind: v3.KindNode})
	if err != nil {
		return nil, fmt.Errorf("list Calico nodes: %w", err)
	}
	names := []string{}
	for _, kv := range l.Items {
		var n v3.Node
		if err := json.Unmarshal(kv.Value, &n); err != nil {
			continue
		}
		if ref, ok := k8sRef(&n); !ok || ref != k8sName {
			continue
		}
		_, err := c.m.backend.Delete(ctx, kv.Key, kv.Revision)
		if err != nil && !errors.Is(err, datastore.ErrNotFound) {
			return nil, fmt.Errorf("delete Calico node %q: %w", n.Name, err)
		}
		names = append(names, n.Name)
	}
	if len(names) == 0 {
		names = append(names, k8sName)
	}
	return names, nil
}

// k8sRef returns the Kubernetes node name a Calico Node stands for: its
// k8s orchRef. Calico Nodes without one are not Kubernetes nodes.
func k8sRef(n *v3.Node) (string, bool) {
	for _, r := range n.Spec.OrchRefs {
		if r.Orchestrator == "k8s" {
			if r.NodeName == "" {
				return n.Name, true
			}
			return r.NodeName, true
		}
	}
	return "", false
}

// releaseAddresses releases the allocations on node whose owner is gone.
func (c *nodeController) releaseAddresses(ctx context.Context, node string) error {
	r, err := c.m.ipam.Check(ctx, c.o.checkOptions())
	if err != nil {
		return fmt.Errorf("node %q: check IPAM: %w", node, err)
	}
	var rel []ipam.ReleaseOptions
	for _, a := range r.LeakedIPs {
		if a.Attrs[ipam.AttrNode] != node && a.BlockAffinity != node {
			continue
		}
		seq := a.SequenceNumber
		rel = append(rel, ipam.ReleaseOptions{Address: a.Addr, Handle: a.Handle, SequenceNumber: &seq})
	}
	if len(rel) == 0 {
		return nil
	}
	if _, err := c.m.ipam.ReleaseIPs(ctx, rel...); err != nil {
		return fmt.Errorf("node %q: release %d addresses: %w", node, len(rel), err)
	}
	c.m.log.Info("released addresses of deleted node", "node", node, "count", len(rel))
	return nil
}

// resync enqueues every node that looks deleted: Kubernetes-owned Calico
// Nodes (etcd mode) and block owners without a Kubernetes Node.
func (c *nodeController) resync(ctx context.Context) error {
	var candidates []string
	if !c.m.cfg.Kubernetes {
		l, err := c.m.backend.List(ctx, datastore.ListOptions{Kind: v3.KindNode})
		if err != nil {
			return err
		}
		for _, kv := range l.Items {
			var n v3.Node
			if json.Unmarshal(kv.Value, &n) == nil {
				if ref, ok := k8sRef(&n); ok {
					candidates = append(candidates, ref)
				}
			}
		}
	} else {
		r, err := c.m.ipam.Check(ctx, ipam.CheckOptions{NodeExists: c.o.k8sNodeExists})
		if err != nil {
			return err
		}
		for _, b := range r.BlocksOfMissingNodes {
			candidates = append(candidates, b.Node)
		}
	}
	for _, n := range candidates {
		if _, err := c.o.nodes.Get(n); err != nil {
			c.loop.queue.Add(n)
		}
	}
	return nil
}
