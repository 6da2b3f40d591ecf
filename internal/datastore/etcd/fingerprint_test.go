package etcd_test

import (
	"context"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// TestFingerprints_ChangeExactlyWhenTheSetChanges drives one set through
// every kind of write and checks the fingerprint changes on each, stays
// put for writes outside the set, and returns to "unchanged" for a create
// followed by a delete of the same key (the set is then identical).
func TestFingerprints_ChangeExactlyWhenTheSetChanges(t *testing.T) {
	e := startEmbedded(t, t.TempDir(), "")
	t.Cleanup(func() { e.Close() })
	b := newClient(t, e.Endpoints())
	ctx := context.Background()
	pools := datastore.ListOptions{Kind: "IPPool"}
	node1 := datastore.ListOptions{Kind: "BlockAffinity", NamePrefix: "node-1-"}
	fp := func() []string {
		t.Helper()
		got, err := b.Fingerprints(ctx, []datastore.ListOptions{pools, node1})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d fingerprints for 2 sets", len(got))
		}
		return got
	}
	put := func(kind, name string) *datastore.KVPair {
		t.Helper()
		kv, err := b.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: kind, Name: name}, Value: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
	empty := fp()
	a := put("IPPool", "a")
	afterCreate := fp()
	if afterCreate[0] == empty[0] {
		t.Errorf("create in the set left its fingerprint at %s", empty[0])
	}
	if afterCreate[1] != empty[1] {
		t.Errorf("create outside the set changed its fingerprint %s → %s", empty[1], afterCreate[1])
	}
	put("BlockAffinity", "node-2-10-0-0-0-26") // other node: outside node1
	if got := fp(); got[1] != empty[1] {
		t.Errorf("another node's affinity changed node-1's fingerprint %s → %s", empty[1], got[1])
	}
	a.Value = []byte(`{"x":1}`)
	if _, err := b.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	afterUpdate := fp()
	if afterUpdate[0] == afterCreate[0] {
		t.Error("update did not change the fingerprint")
	}
	bb := put("IPPool", "b")
	if _, err := b.Delete(ctx, bb.Key, ""); err != nil {
		t.Fatal(err)
	}
	if got := fp(); got[0] != afterUpdate[0] {
		t.Errorf("create+delete of b left an identical set but changed the fingerprint %s → %s", afterUpdate[0], got[0])
	}
	c := put("IPPool", "c")
	withC := fp()
	// Deleting the older key keeps the newest revision: the count catches it.
	if _, err := b.Delete(ctx, datastore.Key{Kind: "IPPool", Name: "a"}, ""); err != nil {
		t.Fatal(err)
	}
	if got := fp(); got[0] == withC[0] {
		t.Errorf("deleting a (not the newest) left the fingerprint at %s", got[0])
	}
	_ = c
	if _, err := b.Fingerprints(ctx, []datastore.ListOptions{{}}); err == nil {
		t.Error("a set without a kind was accepted")
	}
}
