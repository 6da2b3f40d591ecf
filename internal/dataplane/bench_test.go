package dataplane

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// bigState is nEP workloads, each selected by its own policy (10 rules,
// one IP set each) in the default tier. Each set holds three pod addresses
// (a selector set); every tenth also a /24 (a network set), which makes it
// an interval set.
func bigState(nEP int) []calc.Update {
	ups := []calc.Update{allowAllProfile("kns.prod")}
	for i := 0; i < nEP; i++ {
		setID := fmt.Sprintf("s:set-%d", i)
		var members []string
		for j := 0; j < 3; j++ {
			k := (i + j) % nEP
			members = append(members, fmt.Sprintf("10.244.%d.%d/32", k/250, k%250+1))
		}
		if i%10 == 0 {
			members = append(members, fmt.Sprintf("10.%d.%d.0/24", 1+i/256, i%256))
		}
		ups = append(ups, set(setID, members...))
		var rs []calc.Rule
		for r := 0; r < 10; r++ {
			rs = append(rs, calc.Rule{Action: v3.Allow, Protocol: u8(protoTCP), SrcIPSetIDs: []string{setID},
				DstPorts: []calc.PortRange{{Min: uint16(1000 + r), Max: uint16(1000 + r)}}})
		}
		id := pid("default", "prod", fmt.Sprintf("pol-%d", i))
		ups = append(ups, pol(id, rs, nil))
		ups = append(ups, wl("prod", fmt.Sprintf("pod-%d", i), fmt.Sprintf("cali%011d", i),
			fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), []calc.TierInfo{tierIn("default", v3.Deny, id)}, "kns.prod"))
	}
	return append(ups, calc.InSync{})
}

// discardRun is a knftables fake whose Run accepts and drops transactions:
// after the first apply the manager's cost no longer includes the fake's
// (it copies the whole table per transaction, unlike the kernel).
type discardRun struct {
	*knftables.Fake
	discard bool
}

func (d *discardRun) Run(ctx context.Context, tx *knftables.Transaction) error {
	if d.discard {
		return nil
	}
	return d.Fake.Run(ctx, tx)
}

// BenchmarkPolicyManager_ApplyOneSetDelta is the steady-state cost of one
// membership change with 1,000 endpoints and policies (10,000 rules)
// programmed: render the desired table (cached fragments), diff against
// the cache, build the one-element transaction. The nft exec is not
// included (see the privileged figures in docs/felix.md).
func BenchmarkPolicyManager_ApplyOneSetDelta(b *testing.B) {
	d := &discardRun{Fake: knftables.NewFake(knftables.InetFamily, TableName)}
	m := NewPolicyManager(d, PolicyConfig{RefreshInterval: -1})
	m.OnUpdates(bigState(1000))
	mustApply(b, m)
	d.discard = true
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(2*b.N), "cpu-ms/apply") }()
	for i := 0; i < b.N; i++ {
		ip := fmt.Sprintf("172.16.%d.%d/32", (i/250)%250, i%250+1)
		m.OnUpdate(calc.IPSetDelta{ID: "s:set-7", Added: []string{ip}})
		mustApply(b, m)
		m.OnUpdate(calc.IPSetDelta{ID: "s:set-7", Removed: []string{ip}})
		mustApply(b, m)
	}
}

// cpuTime is the process's user+system CPU time: on a shared, loaded
// machine wall time per op mostly measures waiting for a CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPolicyManager_FullSync1000 is the first apply of 1,000
// endpoints and policies into an empty (fake) table.
func BenchmarkPolicyManager_FullSync1000(b *testing.B) {
	ups := bigState(1000)
	for i := 0; i < b.N; i++ {
		m, _ := newFakeManager(b, PolicyConfig{RefreshInterval: -1})
		m.OnUpdates(ups)
		mustApply(b, m)
	}
}
