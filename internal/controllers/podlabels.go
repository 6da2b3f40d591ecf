package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// podLabels copies pod labels onto the pod's WorkloadEndpoints in etcd
// mode (Calico's workloadendpoint controller). The endpoints themselves
// are created and deleted by the CNI plugin; this only keeps their labels
// (the pod's, plus projectcalico.org/namespace, /orchestrator and
// /serviceaccount) in step when a pod is relabelled.
type podLabels struct {
	m    *Manager
	pods corelisters.PodLister
	loop *loop
	keys func() []string
}

func newPodLabels(m *Manager, f informers.SharedInformerFactory) *podLabels {
	inf := f.Core().V1().Pods()
	c := &podLabels{m: m, pods: inf.Lister()}
	c.loop = newLoop(ControllerWorkloadEndpoint, c.reconcile, m.metrics, m.log)
	_, _ = inf.Informer().AddEventHandler(c.loop.handler())
	c.keys = inf.Informer().GetStore().ListKeys
	return c
}

func (c *podLabels) reconcile(ctx context.Context, key string) error {
	ns, name := splitKey(key)
	pod, err := c.pods.Pods(ns).Get(name)
	if err != nil {
		return absent(err) // deleted pods: the CNI plugin removes the endpoint
	}
	if !conversion.IsCalicoPod(pod) {
		return nil
	}
	view, err := conversion.PodToWorkloadEndpoint(pod)
	if err != nil {
		c.loop.log.Warn("cannot convert pod; endpoint labels left as they were", "pod", key, "err", err)
		return nil
	}
	// Endpoints of this pod are named <node>-k8s-<pod>-<endpoint>.
	prefix := strings.TrimSuffix(view.Name, view.Spec.Endpoint)
	l, err := c.m.backend.List(ctx, datastore.ListOptions{Kind: v3.KindWorkloadEndpoint, Namespace: ns, NamePrefix: prefix})
	if err != nil {
		return fmt.Errorf("list endpoints of pod %s: %w", key, err)
	}
	for _, kv := range l.Items {
		var wep v3.WorkloadEndpoint
		if err := json.Unmarshal(kv.Value, &wep); err != nil {
			continue
		}
		if wep.Spec.Pod != pod.Name || wep.Spec.Orchestrator != conversion.OrchestratorK8s || maps.Equal(wep.Labels, view.Labels) {
			continue
		}
		wep.Labels = view.Labels
		b, err := json.Marshal(&wep)
		if err != nil {
			return err
		}
		if _, err := c.m.backend.Update(ctx, &datastore.KVPair{Key: kv.Key, Value: b, Revision: kv.Revision}); err != nil {
			return fmt.Errorf("update labels of %s: %w", kv.Key, err)
		}
	}
	return nil
}

func (c *podLabels) resync(context.Context) error {
	for _, k := range c.keys() {
		c.loop.queue.Add(k)
	}
	return nil
}
