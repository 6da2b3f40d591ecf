package client

import (
	"encoding/json"
	"fmt"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// keyOf returns the datastore key of a resource.
func keyOf(res v3.Resource) datastore.Key {
	return datastore.Key{Kind: res.GetObjectKind().GroupVersionKind().Kind, Namespace: res.GetNamespace(), Name: res.GetName()}
}

// encode renders res as the stored value: its JSON with
// metadata.resourceVersion stripped (the revision lives in the KV pair, so a
// stored value never disagrees with its own revision).
func encode(res v3.Resource) ([]byte, error) {
	rv := res.GetResourceVersion()
	res.SetResourceVersion("")
	defer res.SetResourceVersion(rv)
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ref(res), err)
	}
	return b, nil
}

// decode turns a stored KV pair back into a typed resource and sets
// metadata.resourceVersion to the pair's revision.
func decode(kv *datastore.KVPair) (v3.Resource, error) {
	res, err := v3.NewResource(kv.Key.Kind)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(kv.Value, res); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", kv.Key, err)
	}
	// Stored values always carry TypeMeta, but be robust to values written by
	// other tools without it.
	info, _ := v3.LookupKind(kv.Key.Kind)
	res.GetObjectKind().SetGroupVersionKind(v3.SchemeGroupVersion.WithKind(info.Kind))
	res.SetResourceVersion(kv.Revision)
	return res, nil
}

// ref names a resource the way errors do: `ippool "pool-a"`.
func ref(res v3.Resource) string {
	return v3.ResourceRef(res.GetObjectKind().GroupVersionKind().Kind, res.GetNamespace(), res.GetName())
}
