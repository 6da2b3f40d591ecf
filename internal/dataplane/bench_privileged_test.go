package dataplane

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/tricolor-net/tricolor/internal/calc"
)

// BenchmarkPrivilegedNFT_1000Endpoints programs 1,000 endpoints, 1,000
// policies (10,000 rules) and 1,000 IP sets into a real kernel table in a
// fresh namespace and reports: the first full apply, a restart read-back,
// and one IP set membership change (render + diff + `nft` exec).
func BenchmarkPrivilegedNFT_1000Endpoints(b *testing.B) {
	requireRoot(b)
	node := newNetns(b, "bench")
	var inner knftables.Interface
	if err := node.do(func() (err error) { inner, err = NewNFTables(); return }); err != nil {
		b.Fatal(err)
	}
	nftIface := nsNFT{Interface: inner, ns: node}
	ctx := context.Background()

	m := NewPolicyManager(nftIface, PolicyConfig{RefreshInterval: -1})
	m.OnUpdates(bigState(1000))
	start := time.Now()
	if err := m.Apply(ctx); err != nil {
		b.Fatal(err)
	}
	firstApply := time.Since(start)

	restarted := NewPolicyManager(nftIface, PolicyConfig{RefreshInterval: -1})
	restarted.OnUpdates(bigState(1000))
	start = time.Now()
	if err := restarted.Apply(ctx); err != nil {
		b.Fatal(err)
	}
	restartApply := time.Since(start)
	if ops := restarted.Stats().LastResult.Operations; ops != 0 {
		b.Fatalf("restart changed %d objects", ops)
	}

	b.ResetTimer()
	defer func() {
		// After the loop: ResetTimer drops metrics reported before it.
		b.ReportMetric(firstApply.Seconds(), "s-first-apply")
		b.ReportMetric(restartApply.Seconds(), "s-restart-apply")
	}()
	for i := 0; i < b.N; i++ {
		ip := fmt.Sprintf("172.16.%d.%d/32", (i/250)%250, i%250+1)
		restarted.OnUpdate(calc.IPSetDelta{ID: "s:set-7", Added: []string{ip}})
		if err := restarted.Apply(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
