package calc

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// benchCluster is a cluster of nEndpoints workload endpoints spread over
// nodes of 100 (the first nLocal on this node), 50 namespaces, and
// nPolicies policies (half namespaced, half global) whose selectors and
// rule selectors draw on 200 app and 100 role label values.
func benchCluster(b testing.TB, nEndpoints, nLocal, nPolicies int) []datastore.Update {
	tcp := numorstring.ProtocolFromString("TCP")
	var objs []v3.Resource
	for n := range 50 {
		objs = append(objs, nsProfile(fmt.Sprintf("ns-%d", n), lbl("team", fmt.Sprintf("t%d", n%5))))
	}
	objs = append(objs, tier("default", 1_000_000, v3.Deny))
	for i := range nEndpoints {
		ns := fmt.Sprintf("ns-%d", i%50)
		nodeName := thisNode
		if i >= nLocal {
			nodeName = fmt.Sprintf("node-%d", i/100)
		}
		objs = append(objs, wep(ns, fmt.Sprintf("w%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			lbl("app", fmt.Sprintf("app-%d", i%200), "role", fmt.Sprintf("r%d", i%100)),
			onNode(nodeName), withPort("http", "TCP", 8080)))
	}
	for j := range nPolicies {
		rules := []v3.Rule{
			allowFrom(fmt.Sprintf("role == 'r%d'", j%100)),
			{Action: v3.Allow, Protocol: &tcp, Source: v3.EntityRule{NamespaceSelector: fmt.Sprintf("team == 't%d'", j%5)},
				Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.NamedPort("http"), numorstring.SinglePort(443)}}},
		}
		sel := fmt.Sprintf("app == 'app-%d'", j%200)
		if j%2 == 0 {
			objs = append(objs, np(fmt.Sprintf("ns-%d", j%50), fmt.Sprintf("p%d", j), sel, fptr(float64(j%10)), rules...))
		} else {
			objs = append(objs, gnp(fmt.Sprintf("g%d", j), sel, fptr(float64(j%10)), rules...))
		}
	}
	return diff(state{}, res(b, objs...))
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
	ups := benchCluster(b, 10_000, 1_000, 2_000)
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
	ups := benchCluster(b, 10_000, 1_000, 2_000)
	g, _ := fullSync(ups)
	variants := make([][]datastore.Update, 2)
	for v := range variants {
		w := wep("ns-7", "w7", "10.0.0.7", lbl("app", fmt.Sprintf("app-%d", 7+v), "role", "r7"), withPort("http", "TCP", 8080))
		u := diff(state{}, res(b, w))
		u[0].UpdateType = datastore.UpdateTypeUpdated
		variants[v] = u
	}
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
	ups := benchCluster(b, 10_000, 1_000, 2_000)
	g, _ := fullSync(ups)
	variants := make([][]datastore.Update, 2)
	for v := range variants {
		w := wep("ns-7", "w5007", "10.0.19.143", lbl("app", "app-7", "role", fmt.Sprintf("r%d", 7+v)), onNode("node-50"), withPort("http", "TCP", 8080))
		u := diff(state{}, res(b, w))
		u[0].UpdateType = datastore.UpdateTypeUpdated
		variants[v] = u
	}
	i := 0
	for b.Loop() {
		g.OnUpdates(variants[i%2])
		g.Flush()
		i++
	}
}
