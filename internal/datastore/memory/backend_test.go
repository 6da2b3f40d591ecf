package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func TestBackend_HistoryLimitCompactsOldRevisions(t *testing.T) {
	ctx := context.Background()
	b := NewWithHistory(3)
	defer b.Close()
	key := datastore.Key{Kind: "IPPool", Name: "a"}
	kv, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: []byte("0")})
	if err != nil {
		t.Fatal(err)
	}
	first := kv.Revision
	for i := 0; i < 5; i++ {
		kv.Value = []byte{byte('1' + i)}
		if kv, err = b.Update(ctx, kv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.List(ctx, datastore.ListOptions{Kind: "IPPool", Revision: first}); !errors.Is(err, datastore.ErrCompacted) {
		t.Fatalf("List at revision %s after 5 more writes with history 3: err = %v; want ErrCompacted", first, err)
	}
	w, err := b.Watch(ctx, datastore.ListOptions{Kind: "IPPool"}, first)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev := <-w.Events():
		if ev.Type != datastore.EventError || !errors.Is(ev.Err, datastore.ErrCompacted) {
			t.Fatalf("first event = %v (%v); want error wrapping ErrCompacted", ev.Type, ev.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event from a watch on compacted history")
	}
	if _, ok := <-w.Events(); ok {
		t.Fatal("watch channel still open after EventError")
	}
	// The newest revisions stay readable.
	if l, err := b.List(ctx, datastore.ListOptions{Kind: "IPPool", Revision: kv.Revision}); err != nil || len(l.Items) != 1 {
		t.Fatalf("List at current revision: %v, %v", l, err)
	}
}

func TestBackend_ValuesAreCopied(t *testing.T) {
	ctx := context.Background()
	b := New()
	defer b.Close()
	val := []byte("original")
	key := datastore.Key{Kind: "IPPool", Name: "a"}
	if _, err := b.Create(ctx, &datastore.KVPair{Key: key, Value: val}); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X'
	got, err := b.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got.Value[1] = 'Y'
	again, _ := b.Get(ctx, key)
	if string(again.Value) != "original" {
		t.Fatalf("stored value = %q; want %q (backend must copy in and out)", again.Value, "original")
	}
}

func TestBackend_ClosedRejectsCalls(t *testing.T) {
	b := New()
	b.Close()
	if _, err := b.Get(context.Background(), datastore.Key{Kind: "IPPool", Name: "a"}); err == nil {
		t.Fatal("Get after Close succeeded")
	}
}

func TestWatch_FromFutureRevisionWaitsForIt(t *testing.T) {
	ctx := context.Background()
	b := New()
	defer b.Close()
	w, err := b.Watch(ctx, datastore.ListOptions{Kind: "IPPool"}, "2")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, n := range []string{"a", "b", "c"} { // revisions 1, 2, 3
		if _, err := b.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: "IPPool", Name: n}, Value: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-w.Events():
		if ev.Revision != "3" {
			t.Fatalf("first event from a watch after revision 2 is at revision %s; want 3", ev.Revision)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}
