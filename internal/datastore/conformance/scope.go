package conformance

import (
	"errors"
	"slices"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func scopeCases() []testCase {
	return []testCase{
		{"List_SeparatesKindsAndNamespaces", testKindsAndNamespaces},
		{"List_NamePrefix", testNamePrefix},
		{"List_AtOlderRevision", testListAtRevision},
	}
}

func testKindsAndNamespaces(t *testing.T, h Harness) {
	b := h.Backend
	// "a" is a prefix of "a-b": ordering must be by namespace, not by path.
	for _, k := range []datastore.Key{
		policy("a-b", "p1"), policy("a", "p2"), policy("a", "p1"), policy("b", "p1"),
		pool("p1"),
		{Kind: "GlobalNetworkPolicy", Name: "p1"},
	} {
		mustCreate(t, b, k, `{"key":"`+k.String()+`"}`)
	}
	tests := []struct {
		opts datastore.ListOptions
		want []string
	}{
		{datastore.ListOptions{Kind: "NetworkPolicy"}, []string{"a/p1", "a/p2", "a-b/p1", "b/p1"}},
		{datastore.ListOptions{Kind: "NetworkPolicy", Namespace: "a"}, []string{"a/p1", "a/p2"}},
		{datastore.ListOptions{Kind: "NetworkPolicy", Namespace: "c"}, []string{}},
		{datastore.ListOptions{Kind: "IPPool"}, []string{"p1"}},
		{datastore.ListOptions{Kind: "GlobalNetworkPolicy"}, []string{"p1"}},
		{datastore.ListOptions{Kind: "HostEndpoint"}, []string{}},
	}
	for _, tt := range tests {
		l := mustList(t, b, tt.opts)
		if got := names(l.Items); !slices.Equal(got, tt.want) {
			t.Errorf("List %+v = %v; want %v", tt.opts, got, tt.want)
		}
		for _, kv := range l.Items {
			if kv.Key.Kind != tt.opts.Kind || string(kv.Value) != `{"key":"`+kv.Key.String()+`"}` {
				t.Errorf("List %+v returned %s with value %s", tt.opts, kv.Key, kv.Value)
			}
		}
	}
	// The same name in two namespaces, and in a cluster kind, are distinct.
	got, err := b.Get(ctx(t), policy("b", "p1"))
	if err != nil || string(got.Value) != `{"key":"NetworkPolicy(b/p1)"}` {
		t.Fatalf("Get NetworkPolicy(b/p1) = %v, %v", got, err)
	}
	if _, err := b.Get(ctx(t), datastore.Key{Kind: "NetworkPolicy", Name: "p1"}); !errors.Is(err, datastore.ErrNotFound) {
		t.Fatalf("Get NetworkPolicy(p1) without namespace: err = %v; want ErrNotFound", err)
	}
}

func testNamePrefix(t *testing.T, h Harness) {
	b := h.Backend
	for _, n := range []string{"default-ipv4", "default-ipv6", "def", "other"} {
		mustCreate(t, b, pool(n), `{}`)
	}
	for _, k := range []datastore.Key{policy("ns1", "knp.default.a"), policy("ns2", "knp.default.b"), policy("ns1", "mine")} {
		mustCreate(t, b, k, `{}`)
	}
	tests := []struct {
		opts datastore.ListOptions
		want []string
	}{
		{datastore.ListOptions{Kind: "IPPool", NamePrefix: "default-"}, []string{"default-ipv4", "default-ipv6"}},
		{datastore.ListOptions{Kind: "IPPool", NamePrefix: "def"}, []string{"def", "default-ipv4", "default-ipv6"}},
		{datastore.ListOptions{Kind: "IPPool", NamePrefix: "zzz"}, []string{}},
		{datastore.ListOptions{Kind: "NetworkPolicy", NamePrefix: "knp.default."}, []string{"ns1/knp.default.a", "ns2/knp.default.b"}},
		{datastore.ListOptions{Kind: "NetworkPolicy", Namespace: "ns1", NamePrefix: "knp."}, []string{"ns1/knp.default.a"}},
		// A name prefix never matches a namespace.
		{datastore.ListOptions{Kind: "NetworkPolicy", NamePrefix: "ns1"}, []string{}},
	}
	for _, tt := range tests {
		if got := names(mustList(t, b, tt.opts).Items); !slices.Equal(got, tt.want) {
			t.Errorf("List %+v = %v; want %v", tt.opts, got, tt.want)
		}
	}
}

func testListAtRevision(t *testing.T, h Harness) {
	b := h.Backend
	a := mustCreate(t, b, pool("a"), `{"v":1}`)
	mustCreate(t, b, pool("b"), `{"v":1}`)
	snap := mustList(t, b, datastore.ListOptions{Kind: "IPPool"})

	mustUpdate(t, b, a, `{"v":2}`)
	if _, err := b.Delete(ctx(t), pool("b"), ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, pool("c"), `{"v":1}`)

	old := mustList(t, b, datastore.ListOptions{Kind: "IPPool", Revision: snap.Revision})
	if got := names(old.Items); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("List at revision %s = %v; want [a b]", snap.Revision, got)
	}
	if string(old.Items[0].Value) != `{"v":1}` || old.Items[0].Revision != a.Revision {
		t.Fatalf("List at revision %s shows a = %s at %s; want {\"v\":1} at %s", snap.Revision, old.Items[0].Value, old.Items[0].Revision, a.Revision)
	}
	if old.Revision != snap.Revision {
		t.Errorf("List at revision %s reports revision %s", snap.Revision, old.Revision)
	}
	now := mustList(t, b, datastore.ListOptions{Kind: "IPPool"})
	if got := names(now.Items); !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("current List = %v; want [a c]", got)
	}
}
