package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// KubeLabelsAnnotation is Calico's annotation on a Calico Node recording
// the Kubernetes labels last copied onto it (JSON), so that a label later
// removed from the Kubernetes Node is removed from the Calico Node too,
// while labels set on the Calico Node by other means are kept.
const KubeLabelsAnnotation = "projectcalico.org/kube-labels"

// syncLabels copies the labels of n's Kubernetes Node onto n (Calico's
// syncLabels, etcd mode) and returns n as stored. A Calico Node without a
// Kubernetes orchRef, or whose Kubernetes Node is not (yet, or any more)
// in the cache, is left alone.
func (s *nodeSync) syncLabels(ctx context.Context, n *v3.Node) (*v3.Node, error) {
	ref, ok := k8sRef(n)
	if !ok {
		return n, nil
	}
	kn, err := s.nodes.Get(ref)
	if err != nil {
		return n, nil // deleted: nodeController cleans up
	}
	labels, record, changed := mergeKubeLabels(n.Labels, n.Annotations[KubeLabelsAnnotation], kn.Labels)
	if !changed {
		return n, nil
	}
	next := n.DeepCopy()
	next.Labels = labels
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	next.Annotations[KubeLabelsAnnotation] = record
	res, err := s.c.Update(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("copy the labels of Kubernetes node %q onto Calico node %q: %w", ref, n.Name, err)
	}
	s.loop.log.Info("copied Kubernetes node labels", "node", n.Name, "kubernetesNode", ref)
	return res.(*v3.Node), nil
}

// mergeKubeLabels returns the Calico Node's labels with the Kubernetes
// labels set over them and the labels recorded as copied before (record,
// the annotation's JSON) but gone from Kubernetes removed, the new record,
// and whether either changed. A record that does not parse counts as
// empty: nothing is removed on its account.
func mergeKubeLabels(calico map[string]string, record string, kube map[string]string) (map[string]string, string, bool) {
	var before map[string]string
	if record != "" {
		_ = json.Unmarshal([]byte(record), &before)
	}
	out := maps.Clone(calico)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, kube)
	for k := range before {
		if _, still := kube[k]; !still {
			delete(out, k)
		}
	}
	if kube == nil {
		kube = map[string]string{}
	}
	b, _ := json.Marshal(kube) // a map of strings always encodes
	if len(out) == 0 {
		out = nil
	}
	changed := !maps.Equal(out, calico) || string(b) != record
	return out, string(b), changed
}
