package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// A node namespace with five pods wired like Calico's CNI does. Pods 0-3
// are workload endpoints the calc graph knows (namespaces a and b); pod 4
// has a cali* interface nobody told us about, so it must be cut off both
// ways (fail closed).

const nodeName = "node-a"

type podSpec struct {
	ns, name, iface, ip string
	labels              map[string]string
	ports               []v3.WorkloadEndpointPort
}

var podSpecs = []podSpec{
	{"a", "client", "calia0client", "10.244.0.10", map[string]string{"role": "client"}, nil},
	{"a", "web", "calia1web", "10.244.0.11", map[string]string{"role": "web"}, nil},
	{"b", "db", "calib2db", "10.244.0.12", map[string]string{"role": "db"},
		[]v3.WorkloadEndpointPort{{Name: "http", Protocol: numorstring.ProtocolFromString("TCP"), Port: 8080}}},
	{"b", "web", "calib3web", "10.244.0.13", map[string]string{"role": "web"}, nil},
	{"", "", "caliunknown", "10.244.0.14", nil, nil},
}

const unknownPod = 4

// lab is the node, its pods and the dataplane driving the node's table.
type lab struct {
	node  *netns
	pods  []*pod
	graph *calc.Graph
	state map[datastore.Key][]byte
	mgr   *PolicyManager
	nft   knftables.Interface
}

func newLab(t *testing.T) *lab {
	t.Helper()
	requireRoot(t)
	l := &lab{node: newNetns(t, "node"), state: map[datastore.Key][]byte{}}
	l.node.exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	// Proxy ARP answers for 169.254.1.1 only if the node has a route to it
	// through another interface: a real host's default route; here a veth
	// pair inside the node namespace (no dummy module in every kernel).
	l.node.ip(t, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer")
	l.node.ip(t, "link", "set", "uplink-peer", "up")
	l.node.ip(t, "link", "set", "uplink", "up")
	l.node.ip(t, "route", "add", "default", "dev", "uplink")
	for i, s := range podSpecs {
		p := wirePod(t, l.node, fmt.Sprintf("p%d", i), s.iface, s.ip)
		serveEcho(t, p)
		l.pods = append(l.pods, p)
	}
	l.nft = l.newNFT(t)
	l.graph = calc.New(calc.Config{NodeName: nodeName})
	l.mgr = NewPolicyManager(l.nft, PolicyConfig{RefreshInterval: -1})
	l.graph.OnStatusUpdated(datastore.InSync)
	return l
}

// newNFT opens the node namespace's inet calico table.
func (l *lab) newNFT(t testing.TB) knftables.Interface {
	t.Helper()
	var nftIface knftables.Interface
	if err := l.node.do(func() (err error) { nftIface, err = NewNFTables(); return }); err != nil {
		t.Fatal(err)
	}
	return nsNFT{Interface: nftIface, ns: l.node}
}

// nsNFT runs every knftables call on a thread inside the namespace.
type nsNFT struct {
	knftables.Interface
	ns *netns
}

func (n nsNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	return n.ns.do(func() error { return n.Interface.Run(ctx, tx) })
}
func (n nsNFT) List(ctx context.Context, typ string) (out []string, err error) {
	err = n.ns.do(func() error { out, err = n.Interface.List(ctx, typ); return err })
	return
}
func (n nsNFT) ListRules(ctx context.Context, chain string) (out []*knftables.Rule, err error) {
	err = n.ns.do(func() error { out, err = n.Interface.ListRules(ctx, chain); return err })
	return
}
func (n nsNFT) ListElements(ctx context.Context, typ, name string) (out []*knftables.Element, err error) {
	err = n.ns.do(func() error { out, err = n.Interface.ListElements(ctx, typ, name); return err })
	return
}
func (n nsNFT) ListTableJSON(ctx context.Context) (out []byte, ok bool, err error) {
	l, isLister := n.Interface.(nft.TableLister)
	if !isLister {
		return nil, false, fmt.Errorf("%T cannot list a table in one go", n.Interface)
	}
	err = n.ns.do(func() error { out, ok, err = l.ListTableJSON(ctx); return err })
	return
}

// perObjectNFT hides ListTableJSON: read-back goes through knftables' List*
// calls, one per set and map (to check both read-back paths agree).
type perObjectNFT struct{ knftables.Interface }

func (n nsNFT) ListCounters(ctx context.Context) (out []*knftables.Counter, err error) {
	err = n.ns.do(func() error { out, err = n.Interface.ListCounters(ctx); return err })
	return
}

// baseObjects are the namespaces' profiles and the known pods' endpoints.
func baseObjects() []v3.Resource {
	var out []v3.Resource
	for _, ns := range []string{"a", "b"} {
		p := v3.NewProfile()
		p.Name = calc.NamespaceProfileNamePrefix + ns
		p.Spec.LabelsToApply = map[string]string{calc.NamespaceLabelPrefix + calc.LabelName: ns, calc.NamespaceLabelPrefix + "team": "team-" + ns}
		p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
		p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
		out = append(out, p)
	}
	for _, s := range podSpecs[:unknownPod] {
		w := v3.NewWorkloadEndpoint()
		w.Namespace, w.Name, w.Labels = s.ns, "node--a-k8s-"+s.name+"-eth0", s.labels
		w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: nodeName, Pod: s.name, Endpoint: "eth0",
			IPNetworks: []string{s.ip + "/32"}, InterfaceName: s.iface, MAC: "ee:ee:ee:ee:ee:ee",
			Profiles: []string{calc.NamespaceProfileNamePrefix + s.ns}, Ports: s.ports}
		out = append(out, w)
	}
	return out
}

// setObjects makes the datastore hold exactly base + objs, feeds the
// difference through the calc graph and applies the result.
func (l *lab) setObjects(t *testing.T, objs ...v3.Resource) {
	t.Helper()
	next := map[datastore.Key][]byte{}
	for _, o := range append(baseObjects(), objs...) {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		next[datastore.Key{Kind: o.GetObjectKind().GroupVersionKind().Kind, Namespace: o.GetNamespace(), Name: o.GetName()}] = b
	}
	var ups []datastore.Update
	for k, v := range next {
		old, ok := l.state[k]
		switch {
		case !ok:
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: v}, UpdateType: datastore.UpdateTypeNew})
		case string(old) != string(v):
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: v}, UpdateType: datastore.UpdateTypeUpdated})
		}
	}
	for k := range l.state {
		if _, ok := next[k]; !ok {
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k}, UpdateType: datastore.UpdateTypeDeleted})
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Key.String() < ups[j].Key.String() })
	l.state = next
	l.graph.OnUpdates(ups)
	l.mgr.OnUpdates(l.graph.Flush())
	if err := l.mgr.Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// expectFn says whether traffic from pod src to pod dst with probe pr
// should get through.
type expectFn func(src, dst int, pr probe) bool

// assertMatrix probes every ordered pair of pods with every probe, in
// parallel, and fails with the whole list of mismatches.
func (l *lab) assertMatrix(t *testing.T, expect expectFn) {
	t.Helper()
	type result struct {
		src, dst int
		pr       probe
		got      bool
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var results []result
	for s := range l.pods {
		for d := range l.pods {
			if s == d {
				continue
			}
			for _, pr := range probes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var got bool
					if s != unknownPod && d != unknownPod && expect(s, d, pr) {
						got = reachExpected(l.pods[s], l.pods[d], pr)
					} else {
						got = reach(l.pods[s], l.pods[d], pr)
					}
					mu.Lock()
					results = append(results, result{s, d, pr, got})
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	var bad []string
	for _, r := range results {
		want := expect(r.src, r.dst, r.pr)
		if r.src == unknownPod || r.dst == unknownPod {
			want = false // fail closed, whatever the case says
		}
		if r.got != want {
			bad = append(bad, fmt.Sprintf("  pod%d(%s) -> pod%d(%s) %s: got reachable=%v, want %v",
				r.src, podSpecs[r.src].iface, r.dst, podSpecs[r.dst].iface, r.pr, r.got, want))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("%d of %d probes wrong:\n%s\n--- table ---\n%s", len(bad), len(results), strings.Join(bad, "\n"), l.listTable(t))
	}
}

func (l *lab) listTable(t *testing.T) string {
	t.Helper()
	return l.node.exec(t, "nft", "list", "table", "inet", TableName)
}
