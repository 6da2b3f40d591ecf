package calc

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/testutil/loadgen"
)

// benchSpec is the benchmark cluster: 10,000 workload endpoints on nodes
// of 100 (the first 1,000 on this node), 50 namespaces, 2,000 policies
// (half namespaced, half global) with a role-selector rule and a
// namespaceSelector rule with a named port each (see loadgen.Spec.Policy).
var benchSpec = loadgen.Spec{Node: thisNode, Endpoints: 10_000, Local: 1_000, Policies: 2_000}

func benchCluster(b testing.TB) []datastore.Update {
	ups, err := loadgen.Updates(benchSpec.Objects())
	if err != nil {
		b.Fatal(err)
	}
	return ups
}

// labelVariants returns endpoint i re-labelled with app app-<i%Apps+v>
// (v = 0, 1) and role r<i%Roles+roleShift*v>, as two update batches.
func labelVariants(b testing.TB, i, appShift, roleShift int) [][]datastore.Update {
	variants := make([][]datastore.Update, 2)
	for v := range variants {
		w := benchSpec.Endpoint(i, map[string]string{
			"app":  fmt.Sprintf("app-%d", i%loadgen.Apps+appShift*v),
			"role": fmt.Sprintf("r%d", i%loadgen.Roles+roleShift*v)})
		u, err := loadgen.Update(w, datastore.UpdateTypeUpdated)
		if err != nil {
			b.Fatal(err)
		}
		variants[v] = []datastore.Update{u}
	}
	return variants
}

func fullSync(ups []datastore.Update) (*Graph, []Update) {
	g := New(Config{NodeName: thisNode})
	g.OnStatusUpdated(datastore.ResyncInProgress)
	g.OnUpdates(ups)
	g.OnStatusUpdated(datastore.InSync)
	return g, g.Flush()
}

// BenchmarkGraph_FullSync measures a first sync of 10,000 endpoints (1,000
// local) and 2,000 policies, reporting the live heap afterwards and the
// peak heap seen during the sync.
func BenchmarkGraph_FullSync(b *testing.B) {
	ups := benchCluster(b)
	var peak, live uint64
	var nOut int
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		g := New(Config{NodeName: thisNode})
		g.OnStatusUpdated(datastore.ResyncInProgress)
		for i := 0; i < len(ups); i += 1000 {
			g.OnUpdates(ups[i:min(i+1000, len(ups))])
			peak = max(peak, heapAbove(before))
		}
		g.OnStatusUpdated(datastore.InSync)
		out := g.Flush()
		peak = max(peak, heapAbove(before))
		nOut = len(out)
		runtime.GC()
		live = heapAbove(before)
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "live-heap-MB")
	b.ReportMetric(float64(nOut), "updates")
}

func heapAbove(before runtime.MemStats) uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return m.HeapAlloc - before.HeapAlloc
}

// BenchmarkGraph_EndpointLabelChange measures one local endpoint changing
// its app label (so it leaves one policy and joins another) and the Flush
// that follows, in the full-sync cluster.
func BenchmarkGraph_EndpointLabelChange(b *testing.B) {
	g, _ := fullSync(benchCluster(b))
	variants := labelVariants(b, 7, 1, 0)
	i := 1
	for b.Loop() {
		g.OnUpdates(variants[i%2])
		if len(g.Flush()) == 0 {
			b.Fatal("label change produced no updates")
		}
		i++
	}
}

// BenchmarkGraph_RemoteEndpointLabelChange is the same for an endpoint on
// another node: only IP set membership can change.
func BenchmarkGraph_RemoteEndpointLabelChange(b *testing.B) {
	g, _ := fullSync(benchCluster(b))
	variants := labelVariants(b, 5007, 0, 1)
	i := 0
	for b.Loop() {
		g.OnUpdates(variants[i%2])
		g.Flush()
		i++
	}
}
