package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/client-go/tools/cache"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// mirror keeps one Calico resource per Kubernetes object (etcd mode):
// Kubernetes NetworkPolicy → knp.default.<name>, Namespace → kns.<name>,
// ServiceAccount → ksa.<ns>.<name>. Calico resources under the prefix
// without a Kubernetes object are deleted; resources outside it are never
// touched. Writes go to the backend directly (the typed client refuses
// these names: they belong to Kubernetes) and are CAS on the revision read.
type mirror struct {
	m      *Manager
	kind   string // Calico kind
	prefix string // Calico name prefix owned by this mirror
	// desired returns the Calico resource for a Kubernetes key, nil when
	// the Kubernetes object does not exist; with an error, a non-nil
	// resource is a partial conversion to write anyway.
	desired func(key string) (v3.Resource, error)
	// calicoKey maps a Kubernetes key to the Calico key.
	calicoKey func(key string) datastore.Key
	// k8sKey maps a Calico key under prefix back to the Kubernetes key.
	k8sKey func(datastore.Key) string
	loop   *loop
	// listKeys lists the Kubernetes keys in the informer cache.
	listKeys func() []string
}

func newMirror(m *Manager, name string, inf cache.SharedIndexInformer, mr *mirror) *mirror {
	mr.m = m
	mr.loop = newLoop(name, mr.reconcile, m.metrics, m.log)
	_, _ = inf.AddEventHandler(mr.loop.handler())
	mr.listKeys = inf.GetStore().ListKeys
	return mr
}

func (mr *mirror) reconcile(ctx context.Context, key string) error {
	want, err := mr.desired(key)
	switch {
	case err != nil && want == nil:
		// A Kubernetes object that cannot be converted: keep the last good
		// Calico copy rather than deleting it, and say why.
		mr.loop.log.Warn("cannot convert; Calico resource left as it was", "key", key, "err", err)
		return nil
	case err != nil:
		// Partly converted (a NetworkPolicy rule with a bad port or CIDR
		// is left out, as Calico does): write the rest.
		mr.loop.log.Warn("converted with parts left out", "key", key, "err", err)
	}
	return writeMirrored(ctx, mr.m.backend, mr.calicoKey(key), want)
}

// resync enqueues every Kubernetes object and every Calico resource under
// the prefix (so orphans left while no controller ran are deleted).
func (mr *mirror) resync(ctx context.Context) error {
	for _, k := range mr.listKeys() {
		mr.loop.queue.Add(k)
	}
	l, err := mr.m.backend.List(ctx, datastore.ListOptions{Kind: mr.kind, NamePrefix: mr.prefix})
	if err != nil {
		return fmt.Errorf("list %s %s*: %w", mr.kind, mr.prefix, err)
	}
	for _, kv := range l.Items {
		if k := mr.k8sKey(kv.Key); k != "" {
			mr.loop.queue.Add(k)
		}
	}
	return nil
}

// writeMirrored makes key hold want (nil: not exist) with one CAS write,
// or none when the stored resource already says the same.
func writeMirrored(ctx context.Context, be datastore.Backend, key datastore.Key, want v3.Resource) error {
	var value []byte
	if want != nil {
		want.Default()
		if err := want.Validate(); err != nil {
			return fmt.Errorf("%s: converted resource is invalid: %w", key, err)
		}
		want.SetResourceVersion("")
		b, err := json.Marshal(want)
		if err != nil {
			return fmt.Errorf("%s: encode: %w", key, err)
		}
		value = b
	}
	cur, err := be.Get(ctx, key)
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		if want == nil {
			return nil
		}
		_, err = be.Create(ctx, &datastore.KVPair{Key: key, Value: value})
		return err
	case err != nil:
		return err
	case want == nil:
		_, err = be.Delete(ctx, key, cur.Revision)
		if errors.Is(err, datastore.ErrNotFound) {
			return nil
		}
		return err
	case sameResource(cur.Value, value):
		return nil
	}
	_, err = be.Update(ctx, &datastore.KVPair{Key: key, Value: value, Revision: cur.Revision})
	return err
}

// sameResource compares two encoded resources, ignoring the revision.
func sameResource(a, b []byte) bool {
	var x, y map[string]any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	for _, m := range []map[string]any{x, y} {
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "resourceVersion")
		}
	}
	return reflect.DeepEqual(x, y)
}

// splitKey splits "namespace/name" (cache.MetaNamespaceKeyFunc's format).
func splitKey(key string) (ns, name string) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return "", key
	}
	return ns, name
}

// joinKey is splitKey's inverse.
func joinKey(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// trimPrefix returns s without prefix, "" when s lacks it.
func trimPrefix(s, prefix string) string {
	if !strings.HasPrefix(s, prefix) {
		return ""
	}
	return s[len(prefix):]
}
