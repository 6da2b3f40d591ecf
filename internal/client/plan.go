package client

import (
	"context"
	"fmt"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Action is what a planned operation does.
type Action int

// The actions Plan understands; they mirror the client's write methods.
const (
	ActionCreate Action = iota + 1
	ActionUpdate        // replace: the resource must exist
	ActionApply         // create or replace
	ActionDelete
)

// String names the action the way calicoctl's messages do.
func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionUpdate:
		return "replace"
	case ActionApply:
		return "apply"
	case ActionDelete:
		return "delete"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Op is one planned write.
type Op struct {
	Action   Action
	Resource v3.Resource
}

// Plan checks a batch of writes as a whole without writing anything: each
// operation is defaulted, validated and cross-checked against the datastore
// overlaid with the operations before it (so two new pools in one file that
// overlap each other are caught, and a policy may follow the tier it needs).
// It returns one error slot per operation (nil when that operation would
// succeed). Existence problems wrap datastore.ErrAlreadyExists /
// ErrNotFound so callers can honour --skip-exists / --skip-not-exists.
func (c *Client) Plan(ctx context.Context, ops []Op) []error {
	errs := make([]error, len(ops))
	ov := newOverlay(storeView{c})
	for i, op := range ops {
		errs[i] = c.planOne(ctx, ov, op)
	}
	return errs
}

// planOne checks one operation and, when it passes, records its effect in ov.
func (c *Client) planOne(ctx context.Context, ov *overlayView, op Op) error {
	if op.Action == ActionDelete {
		key := keyOfPrepared(op.Resource)
		if _, err := v3.LookupKind(key.Kind); err != nil {
			return err
		}
		cur, err := ov.get(ctx, key)
		if err != nil {
			return err
		}
		if cur == nil {
			return fmt.Errorf("%s: %w", v3.ResourceRef(key.Kind, key.Namespace, key.Name), datastore.ErrNotFound)
		}
		if err := c.checkDelete(ctx, ov, cur); err != nil {
			return err
		}
		ov.remove(key)
		return nil
	}
	res, err := c.prepare(op.Resource)
	if err != nil {
		return err
	}
	old, err := ov.get(ctx, keyOf(res))
	if err != nil {
		return err
	}
	switch op.Action {
	case ActionCreate:
		if old != nil {
			return fmt.Errorf("%s: %w; use apply or replace to change it", ref(res), datastore.ErrAlreadyExists)
		}
		if rv := res.GetResourceVersion(); rv != "" {
			return fmt.Errorf("%s: metadata.resourceVersion %q must not be set when creating; remove it", ref(res), rv)
		}
	case ActionUpdate:
		if old == nil {
			return fmt.Errorf("%s: %w; use create or apply to add it", ref(res), datastore.ErrNotFound)
		}
	}
	if err := c.checkWrite(ctx, ov, old, res); err != nil {
		return err
	}
	ov.put(res)
	return nil
}
