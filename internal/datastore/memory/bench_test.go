package memory

import (
	"context"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func BenchmarkBackend_UpdateCAS(b *testing.B) {
	ctx := context.Background()
	be := New()
	defer be.Close()
	kv, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "a"}, Value: []byte(`{"n":0}`)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if kv, err = be.Update(ctx, kv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBackend_UpdateToWatcher(b *testing.B) {
	ctx := context.Background()
	be := New()
	defer be.Close()
	kv, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: "a"}, Value: []byte(`{"n":0}`)})
	if err != nil {
		b.Fatal(err)
	}
	w, err := be.Watch(ctx, datastore.ListOptions{Kind: "IPPool"}, kv.Revision)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	for b.Loop() {
		if kv, err = be.Update(ctx, kv); err != nil {
			b.Fatal(err)
		}
		<-w.Events()
	}
}
