package client

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

func newTestClient(t *testing.T) *Client {
	t.Helper()
	c := New(memory.New())
	t.Cleanup(func() { c.Close() })
	return c
}

func pool(name, cidr string, disabled bool) *v3.IPPool {
	p := v3.NewIPPool()
	p.Name = name
	p.Spec.CIDR = cidr
	p.Spec.Disabled = disabled
	return p
}

func TestCreate_SetsUIDTimestampRevisionAndDefaults(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	in := pool("p1", "10.0.0.0/16", false)
	out, err := c.Create(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	ts := out.GetCreationTimestamp()
	if out.GetUID() == "" || ts.IsZero() || out.GetResourceVersion() == "" {
		t.Fatalf("server-owned metadata not set: uid=%q ts=%v rv=%q", out.GetUID(), out.GetCreationTimestamp(), out.GetResourceVersion())
	}
	if got := out.(*v3.IPPool).Spec.BlockSize; got != 26 {
		t.Errorf("blockSize defaulted to %d, want 26", got)
	}
	if in.Spec.BlockSize != 0 || in.UID != "" {
		t.Errorf("Create modified its argument: %+v", in)
	}
	got, err := Get[*v3.IPPool](ctx, c, "", "p1")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ResourceVersion != out.GetResourceVersion() || got.UID != out.GetUID() {
		t.Errorf("get returned rv=%q uid=%q, want %q %q", got.ResourceVersion, got.UID, out.GetResourceVersion(), out.GetUID())
	}
}

func TestCreate_StoresValueWithoutResourceVersion(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	if _, err := c.Create(ctx, pool("p1", "10.0.0.0/16", false)); err != nil {
		t.Fatal(err)
	}
	kv, err := c.Backend().Get(ctx, datastore.Key{Kind: v3.KindIPPool, Name: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(kv.Value, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Metadata["resourceVersion"]; ok {
		t.Errorf("stored value carries resourceVersion: %s", kv.Value)
	}
	if m.Metadata["uid"] == nil {
		t.Errorf("stored value lacks uid: %s", kv.Value)
	}
}

func TestCreate_RefusesOverlappingEnabledPools(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	if _, err := c.Create(ctx, pool("default-ipv4-ippool", "10.0.0.0/16", false)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Create(ctx, pool("pool-b", "10.0.0.0/8", false))
	want := `ippool "pool-b": spec.cidr 10.0.0.0/8 overlaps ippool "default-ipv4-ippool" (10.0.0.0/16); choose a CIDR outside it or disable one of the pools`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if _, err := c.Get(ctx, "ippool", "", "pool-b"); !IsNotFound(err) {
		t.Errorf("refused pool was written anyway (get: %v)", err)
	}
	if _, err := c.Create(ctx, pool("pool-c", "10.0.0.0/8", true)); err != nil {
		t.Errorf("a disabled pool may overlap: %v", err)
	}
	if _, err := c.Create(ctx, pool("pool-d", "10.1.0.0/16", false)); err != nil {
		t.Errorf("a pool overlapping only a disabled pool is fine: %v", err)
	}
}

func TestCreate_ValidationErrorNamesFieldAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	p := pool("p1", "10.0.0.0/16", false)
	p.Spec.BlockSize = 40
	_, err := c.Create(ctx, p)
	if err == nil || !strings.Contains(err.Error(), `ippool "p1": spec.blockSize`) {
		t.Fatalf("got %v, want a spec.blockSize error naming the pool", err)
	}
	rs, _, err := c.List(ctx, "ippools", "")
	if err != nil || len(rs) != 0 {
		t.Fatalf("list after refused create: %d items, err %v", len(rs), err)
	}
}

func TestUpdate_RequiresRevisionAndRejectsStaleOnes(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	created, err := c.Create(ctx, pool("p1", "10.0.0.0/16", false))
	if err != nil {
		t.Fatal(err)
	}
	noRV := pool("p1", "10.0.0.0/16", true)
	if _, err := c.Update(ctx, noRV); !errors.Is(err, datastore.ErrRevisionRequired) {
		t.Errorf("update without revision: got %v, want ErrRevisionRequired", err)
	}
	upd := created.DeepCopyObject().(*v3.IPPool)
	upd.Spec.NATOutgoing = true
	second, err := c.Update(ctx, upd)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if second.GetUID() != created.GetUID() || second.GetResourceVersion() == created.GetResourceVersion() {
		t.Errorf("update lost uid or kept revision: %v %v", second.GetUID(), second.GetResourceVersion())
	}
	if _, err := c.Update(ctx, upd); !IsConflict(err) {
		t.Errorf("update at stale revision: got %v, want conflict", err)
	}
}

func TestUpdate_RefusesCIDRAndBlockSizeChanges(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	created, err := c.Create(ctx, pool("p1", "10.0.0.0/16", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*v3.IPPool)
		want   string
	}{
		{"cidr", func(p *v3.IPPool) { p.Spec.CIDR = "10.1.0.0/16" }, `ippool "p1": spec.cidr cannot be changed`},
		{"blockSize", func(p *v3.IPPool) { p.Spec.BlockSize = 24 }, `ippool "p1": spec.blockSize cannot be changed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := created.DeepCopyObject().(*v3.IPPool)
			tc.mutate(p)
			if _, err := c.Update(ctx, p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if _, err := c.Apply(ctx, p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("apply: got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestApply_CreatesThenReplacesAtCurrentRevision(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	first, err := c.Apply(ctx, pool("p1", "10.0.0.0/16", false))
	if err != nil {
		t.Fatalf("apply (create): %v", err)
	}
	p := pool("p1", "10.0.0.0/16", false)
	p.Spec.NATOutgoing = true
	p.ResourceVersion = "12345" // ignored: apply targets the current revision
	second, err := c.Apply(ctx, p)
	if err != nil {
		t.Fatalf("apply (replace): %v", err)
	}
	if !second.(*v3.IPPool).Spec.NATOutgoing || second.GetUID() != first.GetUID() {
		t.Errorf("apply did not replace in place: %+v", second)
	}
}

func TestDelete_RemovesAndHonoursRevision(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	created, err := c.Create(ctx, pool("p1", "10.0.0.0/16", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "pool", "", "p1", "999999"); !IsConflict(err) {
		t.Errorf("delete at wrong revision: got %v, want conflict", err)
	}
	if _, err := c.Delete(ctx, "pool", "", "p1", created.GetResourceVersion()); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.Delete(ctx, "pool", "", "p1", ""); !IsNotFound(err) {
		t.Errorf("second delete: got %v, want not found", err)
	}
}

func TestPlan_ChecksBatchAsAWholeWithoutWriting(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	if _, err := c.Create(ctx, pool("existing", "192.168.0.0/16", false)); err != nil {
		t.Fatal(err)
	}
	bad := pool("bad", "10.0.0.0/16", false)
	bad.Spec.BlockSize = 99
	errs := c.Plan(ctx, []Op{
		{ActionApply, pool("a", "10.0.0.0/16", false)},
		{ActionApply, pool("b", "10.0.0.0/8", false)}, // overlaps a (same batch)
		{ActionCreate, pool("existing", "192.168.0.0/16", false)},
		{ActionUpdate, pool("missing", "172.16.0.0/16", false)},
		{ActionApply, bad},
		{ActionDelete, pool("existing", "", false)},
	})
	want := []string{"", `overlaps ippool "a"`, "already exists", "does not exist", "spec.blockSize", ""}
	for i, w := range want {
		switch {
		case w == "" && errs[i] != nil:
			t.Errorf("op %d: unexpected error %v", i, errs[i])
		case w != "" && (errs[i] == nil || !strings.Contains(errs[i].Error(), w)):
			t.Errorf("op %d: got %v, want %q", i, errs[i], w)
		}
	}
	if !errors.Is(errs[2], datastore.ErrAlreadyExists) || !errors.Is(errs[3], datastore.ErrNotFound) {
		t.Errorf("existence errors lost their sentinels: %v / %v", errs[2], errs[3])
	}
	rs, _, _ := c.List(ctx, "ippool", "")
	if len(rs) != 1 {
		t.Errorf("plan wrote something: %d pools stored", len(rs))
	}
}

func TestListObject_BuildsTypedListWithRevision(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	for _, p := range []*v3.IPPool{pool("b", "10.1.0.0/16", false), pool("a", "10.2.0.0/16", false)} {
		if _, err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	l, err := c.ListObject(ctx, "ipp", "")
	if err != nil {
		t.Fatal(err)
	}
	pl := l.(*v3.IPPoolList)
	if len(pl.Items) != 2 || pl.Items[0].Name != "a" || pl.ResourceVersion == "" || pl.Kind != "IPPoolList" {
		t.Errorf("unexpected list: kind %q rv %q items %d", pl.Kind, pl.ResourceVersion, len(pl.Items))
	}
}

func TestWatch_DeliversDecodedEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newTestClient(t)
	_, rev, err := c.List(ctx, "ippool", "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, "ippool", "", rev)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := c.Create(ctx, pool("p1", "10.0.0.0/16", false)); err != nil {
		t.Fatal(err)
	}
	ev := <-w.Events()
	if ev.Type != datastore.EventAdded || ev.Object == nil || ev.Object.GetName() != "p1" || ev.Object.GetResourceVersion() == "" {
		t.Fatalf("unexpected event %+v", ev)
	}
}
