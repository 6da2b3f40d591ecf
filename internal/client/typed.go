package client

import (
	"context"
	"fmt"
	"reflect"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Get is the typed form of Client.Get: the kind comes from T, e.g.
//
//	pool, err := client.Get[*v3.IPPool](ctx, c, "", "default-ipv4-ippool")
func Get[T v3.Resource](ctx context.Context, c *Client, namespace, name string) (T, error) {
	var zero T
	kind := reflect.TypeOf(zero).Elem().Name()
	r, err := c.Get(ctx, kind, namespace, name)
	if err != nil {
		return zero, err
	}
	t, ok := r.(T)
	if !ok {
		return zero, fmt.Errorf("stored %s decoded as %T, not %T", kind, r, zero)
	}
	return t, nil
}

// List is the typed form of Client.List.
func List[T v3.Resource](ctx context.Context, c *Client, namespace string) ([]T, string, error) {
	var zero T
	kind := reflect.TypeOf(zero).Elem().Name()
	rs, rev, err := c.List(ctx, kind, namespace)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, 0, len(rs))
	for _, r := range rs {
		t, ok := r.(T)
		if !ok {
			return nil, "", fmt.Errorf("stored %s decoded as %T, not %T", kind, r, zero)
		}
		out = append(out, t)
	}
	return out, rev, nil
}
