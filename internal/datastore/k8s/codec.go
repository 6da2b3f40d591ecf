package k8s

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// toObject turns a stored value (a resource's JSON) into the custom resource
// object sent to the API server: apiVersion and kind from the key's kind,
// metadata.name/namespace from the key, the rest of the value as it is
// (metadata.labels, annotations, spec ...). revision becomes
// metadata.resourceVersion (empty for creates). Fields only the server may
// set (managedFields, selfLink) are dropped.
func toObject(k kindInfo, kv *datastore.KVPair, revision string) (*unstructured.Unstructured, error) {
	obj := map[string]any{}
	if len(kv.Value) > 0 {
		if err := json.Unmarshal(kv.Value, &obj); err != nil {
			return nil, fmt.Errorf("%s: value is not a JSON object (%v); store the resource's JSON encoding", kv.Key, err)
		}
	}
	u := &unstructured.Unstructured{Object: obj}
	if _, ok := obj["metadata"].(map[string]any); !ok && obj["metadata"] != nil {
		return nil, fmt.Errorf("%s: metadata is %T, want an object", kv.Key, obj["metadata"])
	}
	u.SetAPIVersion(APIVersion)
	u.SetKind(k.kind)
	u.SetName(kv.Key.Name)
	u.SetNamespace(kv.Key.Namespace)
	u.SetResourceVersion(revision)
	u.SetManagedFields(nil)
	unstructured.RemoveNestedField(obj, "metadata", "selfLink")
	return u, nil
}

// fromObject turns an object read from the API server into a KV pair: the
// revision is its resourceVersion, the value its JSON without
// resourceVersion (the revision lives in the pair, as in every backend) and
// without managedFields (server bookkeeping). The encoding is deterministic
// (sorted keys), so the same object always yields the same bytes.
func fromObject(kind string, u *unstructured.Unstructured) (*datastore.KVPair, error) {
	rev := u.GetResourceVersion()
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	value, err := json.Marshal(c.Object)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s/%s: %w", kind, u.GetNamespace(), u.GetName(), err)
	}
	return &datastore.KVPair{
		Key:      datastore.Key{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName()},
		Value:    value,
		Revision: rev,
	}, nil
}
