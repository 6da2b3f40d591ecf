package etcd

import (
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func TestEtcdKey_UsesCalicoLayout(t *testing.T) {
	tests := []struct {
		key  datastore.Key
		want string
	}{
		{datastore.Key{Kind: "IPPool", Name: "default-ipv4-ippool"}, "/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool"},
		{datastore.Key{Kind: "Widget", Namespace: "ns1", Name: "w"}, "/calico/resources/v3/projectcalico.org/widgets/ns1/w"},
	}
	for _, tt := range tests {
		if got := etcdKey(tt.key); got != tt.want {
			t.Errorf("etcdKey(%s) = %q; want %q", tt.key, got, tt.want)
		}
		back, ok := parseKey(tt.key.Kind, []byte(tt.want))
		if !ok || back != tt.key {
			t.Errorf("parseKey(%q) = %v, %v; want %v", tt.want, back, ok, tt.key)
		}
	}
}

func TestParseKey_RejectsForeignPaths(t *testing.T) {
	for _, p := range []string{
		"/calico/resources/v3/projectcalico.org/ippools/",
		"/calico/resources/v3/projectcalico.org/ippools/a/b/c",
		"/calico/resources/v3/projectcalico.org/ippoolsx/a",
		"/calico/resources/v3/projectcalico.org/ippools//a",
		"/calico/v1/config/foo",
	} {
		if k, ok := parseKey("IPPool", []byte(p)); ok {
			t.Errorf("parseKey(%q) = %v; want rejected", p, k)
		}
	}
}

func TestListPrefix_NarrowsOnlyWhereSafe(t *testing.T) {
	root := KeyRoot
	tests := []struct {
		opts datastore.ListOptions
		want string
	}{
		{datastore.ListOptions{Kind: "IPPool", NamePrefix: "def"}, root + "ippools/def"},
		{datastore.ListOptions{Kind: "Widget", Namespace: "ns", NamePrefix: "x"}, root + "widgets/ns/x"},
		// Unknown scope: the name prefix could be confused with a namespace.
		{datastore.ListOptions{Kind: "Widget", NamePrefix: "x"}, root + "widgets/"},
	}
	for _, tt := range tests {
		if got := listPrefix(tt.opts); got != tt.want {
			t.Errorf("listPrefix(%+v) = %q; want %q", tt.opts, got, tt.want)
		}
	}
}

func TestConfig_RejectsHalfATLSPair(t *testing.T) {
	if _, err := New(Config{Endpoints: []string{"https://127.0.0.1:1"}, KeyFile: "/k.pem"}); err == nil {
		t.Fatal("New with a key file but no cert file succeeded")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without endpoints succeeded")
	}
	if _, err := New(Config{Endpoints: []string{"https://127.0.0.1:1"}, CACertFile: "/does/not/exist.pem"}); err == nil {
		t.Fatal("New with a missing CA file succeeded")
	}
}
