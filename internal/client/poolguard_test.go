package client

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/ipam"
)

func TestDeletePool_RefusedWhileBlocksExistThenAllowed(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	for _, p := range []string{"10.1.0.0/16", "10.2.0.0/16"} {
		name := "pool-" + strings.Split(p, ".")[1]
		if _, err := c.Create(ctx, pool(name, p, false)); err != nil {
			t.Fatal(err)
		}
	}
	m := ipam.New(c.Backend(), ipam.Options{})
	v4, _, err := m.AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network.abc", Hostname: "node-1", IPv4Pools: []string{"pool-1"}})
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	block := v4.IPs[0].Block.String()

	_, err = c.Delete(ctx, "ippool", "", "pool-1", "")
	var be *ipam.BlocksExistError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), block) || !strings.Contains(err.Error(), `ippool "pool-1"`) {
		t.Fatalf("delete of a pool with block %s: got %v, want a BlocksExistError naming it", block, err)
	}
	if _, err := c.Get(ctx, "ippool", "", "pool-1"); err != nil {
		t.Fatalf("refused delete removed the pool: %v", err)
	}
	// Plan (what calicoctl delete -f runs first) refuses it too.
	if errs := c.Plan(ctx, []Op{{Action: ActionDelete, Resource: pool("pool-1", "10.1.0.0/16", false)}}); errs[0] == nil || !strings.Contains(errs[0].Error(), block) {
		t.Errorf("plan: got %v, want the block listed", errs[0])
	}
	// A pool without blocks is unaffected.
	if _, err := c.Delete(ctx, "ippool", "", "pool-2", ""); err != nil {
		t.Errorf("delete of an empty pool: %v", err)
	}
	// Once the address and the node's affinity are released, the block is
	// gone and the pool may go.
	if _, err := m.ReleaseByHandle(ctx, "k8s-pod-network.abc"); err != nil {
		t.Fatal(err)
	}
	if err := m.ReleaseHostAffinities(ctx, "node-1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "ippool", "", "pool-1", ""); err != nil {
		t.Errorf("delete after releasing the block: %v", err)
	}
}
