package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
	"github.com/tricolor-net/tricolor/internal/dataplane/sysctl"
	"github.com/tricolor-net/tricolor/internal/dataplane/wlroute"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// The lab: a node namespace with six pods wired like Calico's CNI does,
// one more pod whose cali* interface nobody told us about (it must be cut
// off both ways: fail closed), the node itself and an "outside" namespace
// beyond the node's eth1 (the host endpoint interface). All nine are
// participants of the traffic matrix.

const nodeName = "node-a"

// Participants of the matrix, by index into lab.pods.
const (
	pClient  = iota // a/client
	pWebA           // a/web
	pDB             // b/db, named ports http (tcp/8080) and dns (udp/53)
	pWebB           // b/web
	pMonitor        // c/monitor, service account prometheus
	pAPI            // d/api
	pUnknown        // cali interface calc never mentions
	pHost           // the node, 198.18.1.1 on eth1
	pOutside        // beyond eth1, 198.18.1.2
	nParticipants
)

const (
	hostIP    = "198.18.1.1"
	outsideIP = "198.18.1.2"
	// The dual-stack lab's IPv6 fabric (eth1) and pool.
	hostIP6    = "fd00:198:18::1"
	outsideIP6 = "fd00:198:18::2"
	poolV6     = "fd00:10:244::/64"
	// whoamiPort is where the outside answers with the source address it
	// sees (natOutgoing checks).
	whoamiPort = 7000
)

type podSpec struct {
	ns, name, iface, ip string
	labels              map[string]string
	serviceAccount      string
	ports               []v3.WorkloadEndpointPort
	ip6                 string // used by the dual-stack lab only
}

func wepPort(name, proto string, port uint16) v3.WorkloadEndpointPort {
	return v3.WorkloadEndpointPort{Name: name, Protocol: numorstring.ProtocolFromString(proto), Port: port}
}

// podSpecs are the pods, indexed like the participants.
var podSpecs = []podSpec{
	pClient:  {"a", "client", "calia0client", "10.244.0.10", map[string]string{"role": "client"}, "default", nil, "fd00:10:244::a"},
	pWebA:    {"a", "web", "calia1web", "10.244.0.11", map[string]string{"role": "web"}, "default", nil, "fd00:10:244::b"},
	pDB:      {"b", "db", "calib2db", "10.244.0.12", map[string]string{"role": "db"}, "default", []v3.WorkloadEndpointPort{wepPort("http", "TCP", 8080), wepPort("dns", "UDP", 53)}, "fd00:10:244::c"},
	pWebB:    {"b", "web", "calib3web", "10.244.0.13", map[string]string{"role": "web"}, "default", nil, "fd00:10:244::d"},
	pMonitor: {"c", "monitor", "calic4mon", "10.244.0.14", map[string]string{"role": "monitor"}, "prometheus", nil, "fd00:10:244::e"},
	pAPI:     {"d", "api", "calid5api", "10.244.0.15", map[string]string{"role": "api", "env": "prod"}, "default", nil, "fd00:10:244::f"},
	pUnknown: {"", "", "caliunknown", "10.244.0.16", nil, "", nil, "fd00:10:244::10"},
}

// podSpecsFor returns the pods as a lab wires them: IPv4 only (their IPv6
// addresses dropped) unless dualStack.
func podSpecsFor(dualStack bool) []podSpec {
	out := slices.Clone(podSpecs)
	for i := range out {
		if !dualStack {
			out[i].ip6 = ""
		}
	}
	return out
}

// namespaceLabels are the Kubernetes namespaces' labels (applied through
// the kns.<ns> profiles, as Calico's Kubernetes datastore does).
var namespaceLabels = map[string]map[string]string{
	"a": {"team": "team-a"},
	"b": {"team": "team-b"},
	"c": {"team": "ops"},
	"d": {"team": "team-b", "env": "prod"},
}

// participantName names a participant in failure messages.
func participantName(i int) string {
	switch i {
	case pHost:
		return "host"
	case pOutside:
		return "outside"
	case pUnknown:
		return "unknown"
	}
	return podSpecs[i].ns + "/" + podSpecs[i].name
}

// lab is the node, its participants and the dataplane driving the node's
// table.
type lab struct {
	node      *netns
	dualStack bool
	ext       *netns    // the outside
	specs     []podSpec // the pods' specs as wired (podSpecsFor)
	pods      []*pod    // indexed by participant
	// probes are sent between every pair: IPv4 ones, and IPv6 ones in the
	// dual-stack lab.
	probes []probe
	graph  *calc.Graph
	state  map[datastore.Key][]byte
	mgr    *PolicyManager
	nft    knftables.Interface
	// dual-stack lab only: Felix's workload-route and sysctl managers
	// programming the node too (nil otherwise).
	routes  *wlroute.Manager
	sysctls *sysctl.Manager
}

// newLab is the IPv4 lab the traffic matrix and most privileged tests use.
func newLab(t *testing.T) *lab { return newLabFor(t, false) }

// newDualStackLab is the lab with an IPv6 address on every participant
// besides its IPv4 one (pods fd00:10:244::<last byte of the IPv4 one, in
// hex>, the host fd00:198:18::1 and the outside fd00:198:18::2 on eth1),
// probed over both families, and with Felix's sysctl manager (IP
// forwarding, IPv6 included) and workload route manager (/32 and /128
// device routes) running on the node beside the policy manager.
func newDualStackLab(t *testing.T) *lab { return newLabFor(t, true) }

func newLabFor(t *testing.T, dualStack bool) *lab {
	t.Helper()
	requireRoot(t)
	l := &lab{node: newNetns(t, "node"), dualStack: dualStack, state: map[datastore.Key][]byte{}, specs: podSpecsFor(dualStack), probes: probes}
	if dualStack {
		l.probes = append(slices.Clone(probes), probesV6...)
		l.sysctls = sysctl.New("", nil)
		l.routes = wlroute.New(wlroute.Config{Handle: l.node.testutil().Netlink(t)})
	} else {
		l.node.exec(t, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	}
	// Proxy ARP answers for 169.254.1.1 only if the node has a route to it
	// through another interface: a real host's default route; here a veth
	// pair inside the node namespace (no dummy module in every kernel).
	l.node.ip(t, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer")
	l.node.ip(t, "link", "set", "uplink-peer", "up")
	l.node.ip(t, "link", "set", "uplink", "up")
	l.node.ip(t, "route", "add", "default", "dev", "uplink")
	l.pods = make([]*pod, nParticipants)
	for i, s := range l.specs {
		l.pods[i] = wirePod(t, l.node, fmt.Sprintf("p%d", i), s.iface, s.ip, s.ip6)
	}
	// eth1: the node's link to the outside, protected by host endpoints
	// in some cases.
	l.ext = newNetns(t, "out")
	l.node.ip(t, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", l.ext.name)
	l.node.ip(t, "addr", "add", hostIP+"/24", "dev", "eth1")
	l.node.ip(t, "link", "set", "eth1", "up")
	l.ext.ip(t, "addr", "add", outsideIP+"/24", "dev", "eth0")
	l.ext.ip(t, "link", "set", "eth0", "up")
	l.ext.ip(t, "route", "add", "10.244.0.0/16", "via", hostIP)
	l.pods[pHost] = &pod{ns: l.node, ip: hostIP}
	l.pods[pOutside] = &pod{ns: l.ext, ip: outsideIP}
	if dualStack {
		l.node.ip(t, "addr", "add", hostIP6+"/64", "dev", "eth1", "nodad")
		l.ext.ip(t, "addr", "add", outsideIP6+"/64", "dev", "eth0", "nodad")
		l.ext.ip(t, "-6", "route", "add", poolV6, "via", hostIP6)
		l.pods[pHost].ip6, l.pods[pOutside].ip6 = hostIP6, outsideIP6
	}
	for _, p := range l.pods {
		serveEcho(t, p, l.probes)
	}
	serveWhoami(t, l.ext, whoamiPort)
	l.nft = l.newNFT(t)
	l.graph = calc.New(calc.Config{NodeName: nodeName})
	l.mgr = NewPolicyManager(l.nft, PolicyConfig{RefreshInterval: -1})
	// As Felix does before each apply: the node's interfaces resolve
	// host endpoints given only by expectedIPs.
	var ifaces map[string][]netip.Addr
	if err := l.node.do(func() (err error) { ifaces, err = HostInterfaces(); return }); err != nil {
		t.Fatal(err)
	}
	l.mgr.SetHostInterfaces(ifaces)
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

// baseObjects are the namespaces' and service accounts' profiles (as
// Calico derives them from Kubernetes) and the known pods' endpoints, as
// the IPv4 lab wires them.
func baseObjects() []v3.Resource { return baseObjectsFor(podSpecsFor(false)) }

// baseObjectsFor is baseObjects for the given pod specs.
func baseObjectsFor(specs []podSpec) []v3.Resource {
	var out []v3.Resource
	for _, ns := range []string{"a", "b", "c", "d"} {
		p := v3.NewProfile()
		p.Name = calc.NamespaceProfileNamePrefix + ns
		p.Spec.LabelsToApply = map[string]string{calc.NamespaceLabelPrefix + calc.LabelName: ns}
		for k, v := range namespaceLabels[ns] {
			p.Spec.LabelsToApply[calc.NamespaceLabelPrefix+k] = v
		}
		p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
		p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
		out = append(out, p)
	}
	sa := v3.NewProfile()
	sa.Name = calc.ServiceAccountProfileNamePrefix + "c.prometheus"
	sa.Spec.LabelsToApply = map[string]string{calc.ServiceAccountLabelPrefix + calc.LabelName: "prometheus", calc.ServiceAccountLabelPrefix + "role": "scraper"}
	out = append(out, sa)
	for _, s := range specs[:pUnknown] {
		out = append(out, podEndpoint(s))
	}
	return out
}

// podEndpoint is the WorkloadEndpoint Calico's CNI plugin writes for a pod.
func podEndpoint(s podSpec) *v3.WorkloadEndpoint {
	w := v3.NewWorkloadEndpoint()
	w.Namespace, w.Name, w.Labels = s.ns, "node--a-k8s-"+s.name+"-eth0", s.labels
	profiles := []string{calc.NamespaceProfileNamePrefix + s.ns}
	if s.serviceAccount == "prometheus" {
		profiles = append(profiles, calc.ServiceAccountProfileNamePrefix+s.ns+"."+s.serviceAccount)
	}
	nets := []string{s.ip + "/32"}
	if s.ip6 != "" {
		nets = append(nets, s.ip6+"/128")
	}
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: nodeName, Pod: s.name, Endpoint: "eth0",
		ServiceAccountName: s.serviceAccount, IPNetworks: nets, InterfaceName: s.iface,
		MAC: "ee:ee:ee:ee:ee:ee", Profiles: profiles, Ports: s.ports}
	return w
}

// setObjects makes the datastore hold exactly base + objs, feeds the
// difference through the calc graph and applies the result.
func (l *lab) setObjects(t *testing.T, objs ...v3.Resource) {
	t.Helper()
	next := map[datastore.Key][]byte{}
	for _, o := range append(baseObjectsFor(l.specs), objs...) {
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
	out := l.graph.Flush()
	l.mgr.OnUpdates(out)
	if err := l.mgr.Apply(context.Background()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if l.routes != nil {
		l.applyRoutesAndSysctls(t, out)
	}
}

// applyRoutesAndSysctls hands the calc updates to the dual-stack lab's
// route and sysctl managers and applies both in the node namespace. The
// route manager never hears InSync: it would then prune the unknown
// interface's routes, and the lab keeps them so that only the table cuts
// that interface off.
func (l *lab) applyRoutesAndSysctls(t *testing.T, ups []calc.Update) {
	t.Helper()
	for _, u := range ups {
		l.sysctls.OnUpdate(u)
		if _, inSync := u.(calc.InSync); !inSync {
			l.routes.OnUpdate(u)
		}
	}
	ctx := context.Background()
	if err := l.node.do(func() error { return l.sysctls.Apply(ctx) }); err != nil {
		t.Fatalf("sysctl Apply: %v", err)
	}
	if err := l.routes.Apply(ctx); err != nil {
		t.Fatalf("workload routes Apply: %v", err)
	}
}

// expectFn says whether traffic from participant src to participant dst
// with probe pr should get through.
type expectFn func(src, dst int, pr probe) bool

// assertMatrix probes every ordered pair of participants with every probe,
// in parallel, and fails with the whole list of mismatches. Traffic from or
// to the unknown interface must be dropped whatever the case says.
func (l *lab) assertMatrix(t *testing.T, expect expectFn) {
	t.Helper()
	want := func(s, d int, pr probe) bool { return s != pUnknown && d != pUnknown && expect(s, d, pr) }
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
			for _, pr := range l.probes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got := reachFor(l.pods[s], l.pods[d], pr, want(s, d, pr))
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
		if w := want(r.src, r.dst, r.pr); r.got != w {
			bad = append(bad, fmt.Sprintf("  %d %-9s -> %d %-9s %-8s got reachable=%v, want %v",
				r.src, participantName(r.src), r.dst, participantName(r.dst), r.pr, r.got, w))
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
