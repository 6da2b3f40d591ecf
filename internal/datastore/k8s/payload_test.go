package k8s_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// payloadAnnotation carries the conformance suite's opaque test values.
const payloadAnnotation = "conformance.tricolor.dev/payload"

// payloadBackend adapts the conformance suite to the Kubernetes backend.
// The suite stores arbitrary JSON ({"v":1}) and compares it byte for byte,
// but this backend maps a value onto a custom resource whose schema prunes
// unknown fields and whose metadata the server fills in. So each test value
// travels as an annotation of an otherwise empty resource and is unwrapped
// on the way back. Everything else (keys, revisions, CAS, lists, watches,
// errors) is the backend's own behaviour.
type payloadBackend struct {
	datastore.Backend
}

func wrap(kv *datastore.KVPair) *datastore.KVPair {
	v, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{payloadAnnotation: string(kv.Value)}}})
	return &datastore.KVPair{Key: kv.Key, Value: v, Revision: kv.Revision}
}

func unwrap(kv *datastore.KVPair) (*datastore.KVPair, error) {
	if kv == nil {
		return nil, nil
	}
	var obj struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(kv.Value, &obj); err != nil {
		return nil, err
	}
	p, ok := obj.Metadata.Annotations[payloadAnnotation]
	if !ok {
		return nil, fmt.Errorf("%s has no %s annotation: %s", kv.Key, payloadAnnotation, kv.Value)
	}
	return &datastore.KVPair{Key: kv.Key, Value: []byte(p), Revision: kv.Revision}, nil
}

func unwrapResult(kv *datastore.KVPair, err error) (*datastore.KVPair, error) {
	if err != nil {
		return nil, err
	}
	return unwrap(kv)
}

func (p payloadBackend) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	return unwrapResult(p.Backend.Get(ctx, key))
}

func (p payloadBackend) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return unwrapResult(p.Backend.Create(ctx, wrap(kv)))
}

func (p payloadBackend) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return unwrapResult(p.Backend.Update(ctx, wrap(kv)))
}

func (p payloadBackend) Delete(ctx context.Context, key datastore.Key, rev string) (*datastore.KVPair, error) {
	return unwrapResult(p.Backend.Delete(ctx, key, rev))
}

func (p payloadBackend) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	l, err := p.Backend.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for i := range l.Items {
		kv, err := unwrap(&l.Items[i])
		if err != nil {
			return nil, err
		}
		l.Items[i] = *kv
	}
	return l, nil
}

func (p payloadBackend) Watch(ctx context.Context, opts datastore.ListOptions, from string) (datastore.Watcher, error) {
	w, err := p.Backend.Watch(ctx, opts, from)
	if err != nil {
		return nil, err
	}
	out := &payloadWatcher{inner: w, out: make(chan datastore.WatchEvent), done: make(chan struct{})}
	go func() {
		defer close(out.out)
		for ev := range w.Events() {
			if ev.New != nil {
				if ev.New, err = unwrap(ev.New); err != nil {
					ev = datastore.WatchEvent{Type: datastore.EventError, Err: err}
				}
			}
			if ev.Previous != nil {
				if ev.Previous, err = unwrap(ev.Previous); err != nil {
					ev = datastore.WatchEvent{Type: datastore.EventError, Err: err}
				}
			}
			select {
			case out.out <- ev:
			case <-out.done:
				return
			}
		}
	}()
	return out, nil
}

type payloadWatcher struct {
	inner datastore.Watcher
	out   chan datastore.WatchEvent
	done  chan struct{}
	once  sync.Once
}

func (w *payloadWatcher) Events() <-chan datastore.WatchEvent { return w.out }

func (w *payloadWatcher) Stop() {
	w.once.Do(func() { close(w.done) })
	w.inner.Stop()
}
