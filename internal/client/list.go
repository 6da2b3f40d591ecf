package client

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// ListObject is List returning the kind's typed list (e.g. *v3.IPPoolList)
// with items and metadata.resourceVersion set, ready to print as calicoctl
// prints a list.
func (c *Client) ListObject(ctx context.Context, kind, namespace string) (v3.ResourceList, error) {
	info, err := v3.LookupKind(kind)
	if err != nil {
		return nil, err
	}
	items, rev, err := c.List(ctx, info.Kind, namespace)
	if err != nil {
		return nil, err
	}
	return NewList(info, items, rev)
}

// NewList builds a kind's typed list from resources.
func NewList(info v3.KindInfo, items []v3.Resource, revision string) (v3.ResourceList, error) {
	list := info.NewList()
	objs := make([]runtime.Object, len(items))
	for i, r := range items {
		objs[i] = r
	}
	if err := meta.SetList(list, objs); err != nil {
		return nil, fmt.Errorf("build %sList: %w", info.Kind, err)
	}
	list.SetResourceVersion(revision)
	return list, nil
}
