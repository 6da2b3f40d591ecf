package k8s

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// NodeView shows every Kubernetes Node as a Calico Node
// (conversion.K8sNodeToCalico) and, unlike the other views, accepts
// updates: an Update writes the Calico Node's annotation-backed fields and
// labels onto the Kubernetes Node (conversion.MergeCalicoNodeIntoK8s), with
// compare-and-swap on the Kubernetes Node's resourceVersion. Create and
// Delete are refused: the kubelet registers Nodes and Kubernetes deletes
// them.
type NodeView struct {
	*View
}

var _ datastore.Backend = (*NodeView)(nil)

// NewNodes returns the Calico view of the Kubernetes Nodes.
func NewNodes(cfg *rest.Config) (*NodeView, error) {
	v, err := newView(cfg, &View{
		gvr: corev1.SchemeGroupVersion.WithResource("nodes"), source: "Node", kind: v3.KindNode,
		fix: "Nodes are the Kubernetes Nodes in the kubernetes datastore: the kubelet registers them and `kubectl delete node` removes them",
		native: func(key datastore.Key) (string, string, bool) {
			return "", key.Name, key.Namespace == ""
		},
		convert: func(u *unstructured.Unstructured) (v3.Resource, error) {
			kn, err := fromUnstructured[corev1.Node](u)
			if err != nil {
				return nil, err
			}
			return conversion.K8sNodeToCalico(kn)
		},
	})
	if err != nil {
		return nil, err
	}
	return &NodeView{View: v}, nil
}

// Update writes the Calico Node onto its Kubernetes Node if the Kubernetes
// Node's resourceVersion still equals kv.Revision.
func (v *NodeView) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(kv.Key); err != nil {
		return nil, err
	}
	if kv.Key.Kind != v3.KindNode || kv.Key.Namespace != "" {
		return nil, fmt.Errorf("update %s: the node view stores only cluster-scoped Nodes", kv.Key)
	}
	if kv.Revision == "" {
		return nil, datastore.RevisionRequiredError(kv.Key)
	}
	var n v3.Node
	if err := json.Unmarshal(kv.Value, &n); err != nil {
		return nil, fmt.Errorf("update %s: decode the Calico Node: %w", kv.Key, err)
	}
	n.Name = kv.Key.Name
	res := v.client.Resource(v.gvr)
	u, err := res.Get(ctx, kv.Key.Name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w; in the kubernetes datastore a Node exists only as a Kubernetes Node (registered by the kubelet)", datastore.NotFoundError("update", kv.Key))
		}
		return nil, apiError("update", kv.Key, err)
	}
	if cur := u.GetResourceVersion(); cur != kv.Revision {
		return nil, datastore.ConflictError("update", kv.Key, kv.Revision, cur)
	}
	kn, err := fromUnstructured[corev1.Node](u)
	if err != nil {
		return nil, err
	}
	merged, err := conversion.MergeCalicoNodeIntoK8s(&n, kn)
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", kv.Key, err)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(merged)
	if err != nil {
		return nil, fmt.Errorf("update %s: encode the Kubernetes Node: %w", kv.Key, err)
	}
	out, err := res.Update(ctx, &unstructured.Unstructured{Object: obj}, metav1.UpdateOptions{})
	if err != nil {
		switch {
		case apierrors.IsConflict(err):
			cur := "unknown"
			if u, gerr := res.Get(ctx, kv.Key.Name, metav1.GetOptions{}); gerr == nil {
				cur = u.GetResourceVersion()
			}
			return nil, datastore.ConflictError("update", kv.Key, kv.Revision, cur)
		case apierrors.IsNotFound(err):
			return nil, datastore.NotFoundError("update", kv.Key)
		}
		return nil, apiError("update", kv.Key, err)
	}
	got, ok, err := v.converter()(out)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("update %s: the written Kubernetes Node has no valid Calico view (see the log)", kv.Key)
	}
	return got, nil
}
