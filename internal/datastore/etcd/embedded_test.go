package etcd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
)

func TestEmbedded_EndpointFileAndPersistence(t *testing.T) {
	dir := t.TempDir()
	e := startEmbedded(t, dir, "")
	ep, err := etcd.ReadEndpointFile(dir)
	if err != nil || ep != e.Endpoints()[0] {
		t.Fatalf("ReadEndpointFile = %q, %v; want %q", ep, err, e.Endpoints()[0])
	}
	b := newClient(t, []string{ep})
	key := datastore.Key{Kind: "IPPool", Name: "kept"}
	if _, err := b.Create(context.Background(), &datastore.KVPair{Key: key, Value: []byte(`{"kept":true}`)}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	e.Close()
	if _, err := os.Stat(filepath.Join(dir, etcd.EndpointFileName)); !os.IsNotExist(err) {
		t.Fatalf("endpoint file still present after Close (stat err %v)", err)
	}
	if _, err := etcd.ReadEndpointFile(dir); err == nil || !strings.Contains(err.Error(), "no embedded etcd is running") {
		t.Fatalf("ReadEndpointFile after Close: err = %v; want a 'no embedded etcd is running' explanation", err)
	}

	// A new server (on another free port) on the same data dir has the data.
	e2 := startEmbedded(t, dir, "")
	defer e2.Close()
	b2 := newClient(t, e2.Endpoints())
	got, err := b2.Get(context.Background(), key)
	if err != nil || string(got.Value) != `{"kept":true}` {
		t.Fatalf("after restart Get = %v, %v; want the stored value", got, err)
	}
}

func TestStartEmbedded_RejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  etcd.EmbeddedConfig
		want string
	}{
		{"no data dir", etcd.EmbeddedConfig{}, "DataDir is empty"},
		{"not loopback", etcd.EmbeddedConfig{DataDir: t.TempDir(), ClientURL: "http://10.0.0.1:2379"}, "not a loopback address"},
		{"https", etcd.EmbeddedConfig{DataDir: t.TempDir(), ClientURL: "https://127.0.0.1:2379"}, "must use http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := etcd.StartEmbedded(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}
