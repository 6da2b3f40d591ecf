package conformance

import (
	"errors"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

func crudCases() []testCase {
	return []testCase{
		{"CRUD_RoundTrips", testCRUDRoundTrips},
		{"Create_TwiceIsAlreadyExists", testCreateTwice},
		{"Update_StaleRevisionConflictsAndChangesNothing", testUpdateStale},
		{"Update_WithoutRevisionIsRejected", testUpdateWithoutRevision},
		{"MissingKeys_AreNotFound", testMissingKeys},
		{"Delete_StaleRevisionConflicts", testDeleteStale},
		{"Keys_InvalidAreRejected", testInvalidKeys},
		{"Create_AfterDeleteSucceeds", testCreateAfterDelete},
	}
}

func testCRUDRoundTrips(t *testing.T, h Harness) {
	b := h.Backend
	created := mustCreate(t, b, pool("pool-a"), `{"v":1}`)

	got, err := b.Get(ctx(t), pool("pool-a"))
	if err != nil {
		t.Fatalf("Get after Create: %v", err)
	}
	if string(got.Value) != `{"v":1}` || got.Revision != created.Revision || got.Key != pool("pool-a") {
		t.Fatalf("Get = %+v (value %s); want value {\"v\":1} at revision %s", got, got.Value, created.Revision)
	}

	l := mustList(t, b, datastore.ListOptions{Kind: "IPPool"})
	if len(l.Items) != 1 || l.Items[0].Revision != created.Revision || l.Revision == "" {
		t.Fatalf("List = %+v; want the one pool at revision %s and a list revision", l, created.Revision)
	}
	if revLess(t, l.Revision, created.Revision) {
		t.Fatalf("List revision %s is older than the write it contains (%s)", l.Revision, created.Revision)
	}

	updated := mustUpdate(t, b, got, `{"v":2}`)
	if !revLess(t, created.Revision, updated.Revision) {
		t.Fatalf("Update revision %s is not newer than %s", updated.Revision, created.Revision)
	}
	if got, _ := b.Get(ctx(t), pool("pool-a")); string(got.Value) != `{"v":2}` || got.Revision != updated.Revision {
		t.Fatalf("Get after Update = %s at %s; want {\"v\":2} at %s", got.Value, got.Revision, updated.Revision)
	}

	deleted, err := b.Delete(ctx(t), pool("pool-a"), updated.Revision)
	if err != nil {
		t.Fatalf("Delete at current revision: %v", err)
	}
	if string(deleted.Value) != `{"v":2}` || deleted.Key != pool("pool-a") {
		t.Fatalf("Delete returned %+v (%s); want the last value {\"v\":2}", deleted, deleted.Value)
	}
	if _, err := b.Get(ctx(t), pool("pool-a")); !errors.Is(err, datastore.ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v; want ErrNotFound", err)
	}
	if l := mustList(t, b, datastore.ListOptions{Kind: "IPPool"}); len(l.Items) != 0 {
		t.Fatalf("List after Delete = %v; want empty", names(l.Items))
	}
}

func testCreateTwice(t *testing.T, h Harness) {
	b := h.Backend
	first := mustCreate(t, b, pool("dup"), `{"first":true}`)
	_, err := b.Create(ctx(t), &datastore.KVPair{Key: pool("dup"), Value: []byte(`{"second":true}`)})
	if !errors.Is(err, datastore.ErrAlreadyExists) {
		t.Fatalf("second Create: err = %v; want ErrAlreadyExists", err)
	}
	if !strings.Contains(err.Error(), "IPPool(dup)") {
		t.Errorf("error %q does not name the resource IPPool(dup)", err)
	}
	got, _ := b.Get(ctx(t), pool("dup"))
	if string(got.Value) != `{"first":true}` || got.Revision != first.Revision {
		t.Fatalf("after failed Create the value is %s at %s; want the first value unchanged", got.Value, got.Revision)
	}
}

func testUpdateStale(t *testing.T, h Harness) {
	b := h.Backend
	v1 := mustCreate(t, b, pool("pool-a"), `{"v":1}`)
	v2 := mustUpdate(t, b, v1, `{"v":2}`)
	_, err := b.Update(ctx(t), &datastore.KVPair{Key: pool("pool-a"), Value: []byte(`{"v":"stale"}`), Revision: v1.Revision})
	if !errors.Is(err, datastore.ErrConflict) {
		t.Fatalf("Update at stale revision %s: err = %v; want ErrConflict", v1.Revision, err)
	}
	for _, want := range []string{"IPPool(pool-a)", v1.Revision, v2.Revision} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("conflict error %q does not mention %q", err, want)
		}
	}
	got, _ := b.Get(ctx(t), pool("pool-a"))
	if string(got.Value) != `{"v":2}` || got.Revision != v2.Revision {
		t.Fatalf("after the failed CAS the value is %s at %s; want {\"v\":2} at %s", got.Value, got.Revision, v2.Revision)
	}
}

func testUpdateWithoutRevision(t *testing.T, h Harness) {
	b := h.Backend
	mustCreate(t, b, pool("pool-a"), `{"v":1}`)
	_, err := b.Update(ctx(t), &datastore.KVPair{Key: pool("pool-a"), Value: []byte(`{"v":2}`)})
	if !errors.Is(err, datastore.ErrRevisionRequired) {
		t.Fatalf("Update without revision: err = %v; want ErrRevisionRequired", err)
	}
	if got, _ := b.Get(ctx(t), pool("pool-a")); string(got.Value) != `{"v":1}` {
		t.Fatalf("value changed to %s by a rejected update", got.Value)
	}
}

func testMissingKeys(t *testing.T, h Harness) {
	b := h.Backend
	exists := mustCreate(t, b, pool("other"), `{}`)
	if _, err := b.Get(ctx(t), pool("missing")); !errors.Is(err, datastore.ErrNotFound) {
		t.Errorf("Get missing: err = %v; want ErrNotFound", err)
	}
	if _, err := b.Update(ctx(t), &datastore.KVPair{Key: pool("missing"), Value: []byte(`{}`), Revision: exists.Revision}); !errors.Is(err, datastore.ErrNotFound) {
		t.Errorf("Update missing: err = %v; want ErrNotFound", err)
	}
	if _, err := b.Delete(ctx(t), pool("missing"), ""); !errors.Is(err, datastore.ErrNotFound) {
		t.Errorf("Delete missing: err = %v; want ErrNotFound", err)
	}
	if _, err := b.Delete(ctx(t), pool("missing"), exists.Revision); !errors.Is(err, datastore.ErrNotFound) {
		t.Errorf("Delete missing at a revision: err = %v; want ErrNotFound", err)
	}
	if _, err := b.Get(ctx(t), pool("missing")); !errors.Is(err, datastore.ErrNotFound) {
		t.Errorf("Update of a missing key created it: Get err = %v", err)
	}
}

func testDeleteStale(t *testing.T, h Harness) {
	b := h.Backend
	v1 := mustCreate(t, b, pool("pool-a"), `{"v":1}`)
	v2 := mustUpdate(t, b, v1, `{"v":2}`)
	if _, err := b.Delete(ctx(t), pool("pool-a"), v1.Revision); !errors.Is(err, datastore.ErrConflict) {
		t.Fatalf("Delete at stale revision: err = %v; want ErrConflict", err)
	}
	if _, err := b.Get(ctx(t), pool("pool-a")); err != nil {
		t.Fatalf("resource gone after a conflicting Delete: %v", err)
	}
	if _, err := b.Delete(ctx(t), pool("pool-a"), v2.Revision); err != nil {
		t.Fatalf("Delete at current revision: %v", err)
	}
	// An unconditional delete needs no revision.
	mustCreate(t, b, pool("pool-b"), `{}`)
	if _, err := b.Delete(ctx(t), pool("pool-b"), ""); err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
}

func testInvalidKeys(t *testing.T, h Harness) {
	b := h.Backend
	bad := []datastore.Key{
		{Kind: "IPPool", Name: ""},
		{Kind: "IPPool", Name: "a/b"},
		{Kind: "NetworkPolicy", Namespace: "ns/x", Name: "p"},
		{Kind: "", Name: "x"},
	}
	for _, key := range bad {
		_, err := b.Create(ctx(t), &datastore.KVPair{Key: key, Value: []byte(`{}`)})
		if err == nil {
			t.Errorf("Create %+v succeeded; want a validation error", key)
			continue
		}
		for _, s := range []error{datastore.ErrAlreadyExists, datastore.ErrNotFound, datastore.ErrConflict} {
			if errors.Is(err, s) {
				t.Errorf("Create %+v: error %q wraps %v; want a plain validation error", key, err, s)
			}
		}
	}
	if l := mustList(t, b, datastore.ListOptions{Kind: "IPPool"}); len(l.Items) != 0 {
		t.Fatalf("invalid creates stored %v", names(l.Items))
	}
}

func testCreateAfterDelete(t *testing.T, h Harness) {
	b := h.Backend
	first := mustCreate(t, b, pool("again"), `{"v":1}`)
	if _, err := b.Delete(ctx(t), pool("again"), ""); err != nil {
		t.Fatal(err)
	}
	second := mustCreate(t, b, pool("again"), `{"v":2}`)
	if !revLess(t, first.Revision, second.Revision) {
		t.Fatalf("re-created resource has revision %s, not newer than %s", second.Revision, first.Revision)
	}
	// The old revision must not act as a CAS token for the new resource.
	if _, err := b.Update(ctx(t), &datastore.KVPair{Key: pool("again"), Value: []byte(`{}`), Revision: first.Revision}); !errors.Is(err, datastore.ErrConflict) {
		t.Fatalf("Update with the deleted incarnation's revision: err = %v; want ErrConflict", err)
	}
}
