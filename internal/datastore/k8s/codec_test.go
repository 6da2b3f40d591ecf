package k8s

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func TestToObject_MapsKeyAndRevisionOntoTheCustomResource(t *testing.T) {
	pool, _ := lookup("IPPool")
	np, _ := lookup("NetworkPolicy")
	tests := []struct {
		name     string
		k        kindInfo
		kv       datastore.KVPair
		revision string
		want     string // JSON of the object sent to the API server
	}{
		{
			name: "resource JSON keeps spec and labels; apiVersion, kind and name come from the key",
			k:    pool,
			kv: datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "pool-a"},
				Value: []byte(`{"apiVersion":"other/v1","kind":"Wrong","metadata":{"name":"ignored","labels":{"a":"b"}},"spec":{"cidr":"10.0.0.0/16"}}`)},
			revision: "",
			want:     `{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"labels":{"a":"b"},"name":"pool-a"},"spec":{"cidr":"10.0.0.0/16"}}`,
		},
		{
			name: "namespaced key sets the namespace; revision becomes resourceVersion; server bookkeeping dropped",
			k:    np,
			kv: datastore.KVPair{Key: datastore.Key{Kind: "NetworkPolicy", Namespace: "prod", Name: "allow"},
				Value: []byte(`{"metadata":{"managedFields":[{"manager":"x"}],"selfLink":"/x"},"spec":{}}`)},
			revision: "42",
			want:     `{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"allow","namespace":"prod","resourceVersion":"42"},"spec":{}}`,
		},
		{
			name:     "empty value is an empty resource",
			k:        pool,
			kv:       datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "p"}},
			revision: "",
			want:     `{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"p"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := toObject(tt.k, &tt.kv, tt.revision)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := u.MarshalJSON()
			if strings.TrimSpace(string(got)) != tt.want {
				t.Fatalf("object = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestToObject_RejectsValuesThatAreNotObjects(t *testing.T) {
	pool, _ := lookup("IPPool")
	for _, v := range []string{`[1]`, `"x"`, `{"metadata":"x"}`, `{`} {
		_, err := toObject(pool, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "p"}, Value: []byte(v)}, "")
		if err == nil || !strings.Contains(err.Error(), "IPPool(p)") {
			t.Errorf("value %s: err = %v; want an error naming IPPool(p)", v, err)
		}
	}
}

func TestFromObject_RevisionIsResourceVersionAndValueIsDeterministic(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "allow", "namespace": "prod", "resourceVersion": "17", "uid": "u-1",
			"managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec": map[string]any{"selector": "all()", "order": 10.0},
	}}
	kv, err := fromObject("NetworkPolicy", u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"projectcalico.org/v3","kind":"NetworkPolicy","metadata":{"name":"allow","namespace":"prod","uid":"u-1"},"spec":{"order":10,"selector":"all()"}}`
	if kv.Revision != "17" || kv.Key != (datastore.Key{Kind: "NetworkPolicy", Namespace: "prod", Name: "allow"}) || string(kv.Value) != want {
		t.Fatalf("fromObject = %s %s %s\nwant value %s at 17", kv.Key, kv.Revision, kv.Value, want)
	}
	if u.GetResourceVersion() != "17" {
		t.Fatalf("fromObject modified its input")
	}
}

func TestLookup_UnknownKindNamesTheGroup(t *testing.T) {
	if _, err := lookup("Pod"); err == nil || !strings.Contains(err.Error(), "projectcalico.org") {
		t.Fatalf("lookup(Pod) err = %v", err)
	}
	k, err := lookup("GlobalNetworkPolicy")
	if err != nil || k.gvr.Resource != "globalnetworkpolicies" || k.namespaced || k.crdName() != "globalnetworkpolicies.projectcalico.org" {
		t.Fatalf("lookup(GlobalNetworkPolicy) = %+v, %v", k, err)
	}
}
