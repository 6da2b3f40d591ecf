package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Harness is one fresh, empty backend plus what the suite may do to the
// server behind it.
type Harness struct {
	// Backend is empty when the case starts; the case closes it.
	Backend datastore.Backend
	// Restart stops the datastore server and starts it again on the same
	// data and endpoint; Backend must keep working afterwards (reconnecting
	// by itself). Nil skips the restart cases.
	Restart func(t *testing.T)
	// Compact discards history before rev, as etcd's compaction does. Nil
	// skips the compaction cases.
	Compact func(t *testing.T, rev string)
	// Skip names cases that do not apply to this backend, with the reason
	// (e.g. a case writing a name the backend reserves).
	Skip map[string]string
}

// testCase is one named conformance check.
type testCase struct {
	name string
	run  func(t *testing.T, h Harness)
}

// waitTimeout bounds every wait for an event or a syncer state.
const waitTimeout = 15 * time.Second

// Run runs every case against backends made by newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	var cases []testCase
	cases = append(cases, crudCases()...)
	cases = append(cases, scopeCases()...)
	cases = append(cases, watchCases()...)
	cases = append(cases, syncerCases()...)
	cases = append(cases, loadCases()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			t.Cleanup(func() { h.Backend.Close() })
			if why := h.Skip[c.name]; why != "" {
				t.Skip(why)
			}
			c.run(t, h)
		})
	}
}

// ctx returns a context bounded by waitTimeout and ended with the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	t.Cleanup(cancel)
	return c
}

// mustCreate creates key with value or fails the test.
func mustCreate(t *testing.T, b datastore.Backend, key datastore.Key, value string) *datastore.KVPair {
	t.Helper()
	kv, err := b.Create(ctx(t), &datastore.KVPair{Key: key, Value: []byte(value)})
	if err != nil {
		t.Fatalf("Create %s: %v", key, err)
	}
	if kv.Revision == "" {
		t.Fatalf("Create %s returned no revision", key)
	}
	return kv
}

// mustUpdate writes value over kv (CAS on kv.Revision) or fails the test.
func mustUpdate(t *testing.T, b datastore.Backend, kv *datastore.KVPair, value string) *datastore.KVPair {
	t.Helper()
	out, err := b.Update(ctx(t), &datastore.KVPair{Key: kv.Key, Value: []byte(value), Revision: kv.Revision})
	if err != nil {
		t.Fatalf("Update %s at revision %s: %v", kv.Key, kv.Revision, err)
	}
	return out
}

// mustList lists opts or fails the test.
func mustList(t *testing.T, b datastore.Backend, opts datastore.ListOptions) *datastore.KVList {
	t.Helper()
	l, err := b.List(ctx(t), opts)
	if err != nil {
		t.Fatalf("List %+v: %v", opts, err)
	}
	return l
}

// names renders a list's keys as "ns/name" (or "name") for comparisons.
func names(items []datastore.KVPair) []string {
	out := make([]string, 0, len(items))
	for _, kv := range items {
		if kv.Key.Namespace != "" {
			out = append(out, kv.Key.Namespace+"/"+kv.Key.Name)
		} else {
			out = append(out, kv.Key.Name)
		}
	}
	return out
}

// revLess compares two decimal revisions numerically. The suite may rely on
// ordering because every backend under test issues decimal revisions; the
// Kubernetes backend will compare per kind.
func revLess(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := datastore.ParseRevision("revision", a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := datastore.ParseRevision("revision", b)
	if err != nil {
		t.Fatal(err)
	}
	return x < y
}

func pool(name string) datastore.Key { return datastore.Key{Kind: "IPPool", Name: name} }

func policy(ns, name string) datastore.Key {
	return datastore.Key{Kind: "NetworkPolicy", Namespace: ns, Name: name}
}
