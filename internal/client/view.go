package client

import (
	"context"
	"errors"
	"sort"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// view is what the cross-resource checks read: the datastore itself, or the
// datastore overlaid with a batch of pending writes (Plan).
type view interface {
	// get returns the resource, or (nil, nil) when it does not exist.
	get(ctx context.Context, key datastore.Key) (v3.Resource, error)
	// list returns every resource of a kind across all namespaces.
	list(ctx context.Context, kind string) ([]v3.Resource, error)
}

// storeView reads the datastore through the client.
type storeView struct{ c *Client }

func (s storeView) get(ctx context.Context, key datastore.Key) (v3.Resource, error) {
	r, err := s.c.getKey(ctx, key)
	if errors.Is(err, datastore.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

func (s storeView) list(ctx context.Context, kind string) ([]v3.Resource, error) {
	rs, _, err := s.c.List(ctx, kind, "")
	return rs, err
}

// overlayView is a base view with pending writes on top; a nil value marks a
// pending delete.
type overlayView struct {
	base    view
	pending map[datastore.Key]v3.Resource
}

func newOverlay(base view) *overlayView {
	return &overlayView{base: base, pending: map[datastore.Key]v3.Resource{}}
}

func (o *overlayView) put(res v3.Resource)          { o.pending[keyOf(res)] = res }
func (o *overlayView) remove(key datastore.Key)     { o.pending[key] = nil }
func (o *overlayView) touched(k datastore.Key) bool { _, ok := o.pending[k]; return ok }

func (o *overlayView) get(ctx context.Context, key datastore.Key) (v3.Resource, error) {
	if r, ok := o.pending[key]; ok {
		return r, nil
	}
	return o.base.get(ctx, key)
}

func (o *overlayView) list(ctx context.Context, kind string) ([]v3.Resource, error) {
	base, err := o.base.list(ctx, kind)
	if err != nil {
		return nil, err
	}
	var out []v3.Resource
	for _, r := range base {
		if !o.touched(keyOf(r)) {
			out = append(out, r)
		}
	}
	for k, r := range o.pending {
		if k.Kind == kind && r != nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out, nil
}
