package bgp

import (
	"errors"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Fixture builders; addresses are in the 198.18.0.0/15 test fabric.

func node(name, v4 string, labels map[string]string, mods ...func(*v3.Node)) v3.Node {
	n := v3.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: v4}
	for _, m := range mods {
		m(&n)
	}
	return n
}

func withASN(a uint32) func(*v3.Node) {
	return func(n *v3.Node) { x := numorstring.ASNumber(a); n.Spec.BGP.ASNumber = &x }
}

func withRR(id string) func(*v3.Node) {
	return func(n *v3.Node) { n.Spec.BGP.RouteReflectorClusterID = id }
}

func withV6(a string) func(*v3.Node) { return func(n *v3.Node) { n.Spec.BGP.IPv6Address = a } }

func bgpConfig(name string, spec v3.BGPConfigurationSpec) v3.BGPConfiguration {
	return v3.BGPConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func bgpPeer(name string, spec v3.BGPPeerSpec) v3.BGPPeer {
	return v3.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func pool(name, cidr string, disableExport bool) v3.IPPool {
	p := v3.IPPool{ObjectMeta: metav1.ObjectMeta{Name: name}}
	p.Spec.CIDR = cidr
	p.Spec.DisableBGPExport = disableExport
	p.Default()
	return p
}

func affinity(nodeName, cidr string, state v3.BlockAffinityState) v3.BlockAffinity {
	return v3.BlockAffinity{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName + "-" + strings.NewReplacer(".", "-", "/", "-").Replace(cidr)},
		Spec:       v3.BlockAffinitySpec{State: state, Node: nodeName, CIDR: cidr},
	}
}

func block(cidr, affineTo string, size int, allocatedTo map[int]string) v3.IPAMBlock {
	b := v3.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: strings.NewReplacer(".", "-", "/", "-").Replace(cidr)}}
	b.Spec.CIDR = cidr
	if affineTo != "" {
		a := "host:" + affineTo
		b.Spec.Affinity = &a
	}
	b.Spec.Allocations = make([]*int, size)
	for ord, n := range allocatedTo {
		idx := len(b.Spec.Attributes)
		b.Spec.Attributes = append(b.Spec.Attributes, v3.AllocationAttribute{AttrSecondary: map[string]string{"node": n}})
		b.Spec.Allocations[ord] = &idx
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func threeNodes() []v3.Node {
	return []v3.Node{
		node("node-a", "198.18.0.2/24", nil),
		node("node-b", "198.18.0.3/24", nil),
		node("node-c", "198.18.0.4/24", nil),
	}
}

func mustCompute(t *testing.T, nodeName string, st *State, secrets SecretGetter) *Desired {
	t.Helper()
	d, err := Compute(nodeName, st, secrets)
	if err != nil {
		t.Fatalf("Compute(%s): %v", nodeName, err)
	}
	return d
}

// peerSummary renders peers compactly so tables can compare them.
func peerSummary(ps []Peer) []string {
	var out []string
	for _, p := range ps {
		s := p.Name + " " + p.Key().String() + " as" + strconv.FormatUint(uint64(p.ASN), 10) + " " + string(p.Type)
		if p.RRClient {
			s += " rr-client"
		}
		if p.Passive {
			s += " passive"
		}
		out = append(out, s)
	}
	return out
}

func TestCompute_DefaultsGiveFullMeshOnPort179AS64512(t *testing.T) {
	d := mustCompute(t, "node-b", &State{Nodes: threeNodes()}, nil)
	if d.ASN != 64512 || d.ListenPort != 179 {
		t.Errorf("ASN/port = %d/%d, want 64512/179", d.ASN, d.ListenPort)
	}
	if d.RouterID != netip.MustParseAddr("198.18.0.3") {
		t.Errorf("RouterID = %s, want the node's IPv4 address", d.RouterID)
	}
	want := []string{
		"Mesh_198_18_0_2 198.18.0.2:179 as64512 node-to-node mesh",
		"Mesh_198_18_0_4 198.18.0.4:179 as64512 node-to-node mesh passive",
	}
	if got := peerSummary(d.Peers); !reflect.DeepEqual(got, want) {
		t.Errorf("peers:\n got %q\nwant %q", got, want)
	}
	for _, p := range d.Peers {
		if p.SourceAddress != d.IPv4 || p.MaxRestartTime != 120*time.Second {
			t.Errorf("peer %s: source %s restart %s, want node address and 120s", p.Name, p.SourceAddress, p.MaxRestartTime)
		}
	}
}

func TestCompute_PeersFromConfigAndBGPPeers(t *testing.T) {
	off := false
	cases := []struct {
		name  string
		nodes []v3.Node
		cfgs  []v3.BGPConfiguration
		peers []v3.BGPPeer
		self  string
		want  []string
	}{
		{
			name: "mesh disabled and no peers gives no sessions",
			cfgs: []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off})},
			self: "node-a",
		},
		{
			name:  "cluster AS and node AS overrides flow into the remote AS",
			nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil), node("node-b", "198.18.0.3/24", nil, withASN(65002))},
			cfgs:  []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{ASNumber: ptr(numorstring.ASNumber(65000))})},
			self:  "node-a",
			want:  []string{"Mesh_198_18_0_3 198.18.0.3:179 as65002 node-to-node mesh passive"},
		},
		{
			name:  "per-node listen port is the port others dial",
			nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil), node("node-b", "198.18.0.3/24", nil)},
			cfgs:  []v3.BGPConfiguration{bgpConfig("node.node-b", v3.BGPConfigurationSpec{ListenPort: 1790})},
			self:  "node-a",
			want:  []string{"Mesh_198_18_0_3_port_1790 198.18.0.3:1790 as64512 node-to-node mesh passive"},
		},
		{
			name:  "global peer with port applies to every node",
			nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil)},
			peers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.254:1179", ASNumber: 65100})},
			self:  "node-a",
			want:  []string{"Global_198_18_0_254_port_1179 198.18.0.254:1179 as65100 global"},
		},
		{
			name:  "node-specific peer only on its node",
			peers: []v3.BGPPeer{bgpPeer("tor-c", v3.BGPPeerSpec{Node: "node-c", PeerIP: "198.18.0.254", ASNumber: 65100})},
			cfgs:  []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off})},
			self:  "node-a",
		},
		{
			name:  "nodeSelector peer on matching node is node specific",
			nodes: []v3.Node{node("node-a", "198.18.0.2/24", map[string]string{"rack": "r1"})},
			peers: []v3.BGPPeer{bgpPeer("rack1", v3.BGPPeerSpec{NodeSelector: "rack == 'r1'", PeerIP: "198.18.0.254", ASNumber: 65100})},
			self:  "node-a",
			want:  []string{"Node_198_18_0_254 198.18.0.254:179 as65100 node specific"},
		},
		{
			name:  "explicit peer to a meshed node does not double the session",
			peers: []v3.BGPPeer{bgpPeer("to-b", v3.BGPPeerSpec{PeerIP: "198.18.0.3", ASNumber: 64512})},
			self:  "node-a",
			want: []string{
				"Mesh_198_18_0_3 198.18.0.3:179 as64512 node-to-node mesh passive",
				"Mesh_198_18_0_4 198.18.0.4:179 as64512 node-to-node mesh passive",
			},
		},
		{
			name:  "invalid BGPPeer is skipped, others kept",
			nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil)},
			peers: []v3.BGPPeer{
				bgpPeer("bad", v3.BGPPeerSpec{PeerIP: "not-an-ip", ASNumber: 65100}),
				bgpPeer("good", v3.BGPPeerSpec{PeerIP: "198.18.0.254", ASNumber: 65100}),
			},
			self: "node-a",
			want: []string{"Global_198_18_0_254 198.18.0.254:179 as65100 global"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nodes := tc.nodes
			if nodes == nil {
				nodes = threeNodes()
			}
			d := mustCompute(t, tc.self, &State{Nodes: nodes, BGPConfigurations: tc.cfgs, BGPPeers: tc.peers}, nil)
			if got := peerSummary(d.Peers); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("peers:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// The topology from Calico's docs: mesh off, two nodes labelled as route
// reflectors with a cluster ID, one BGPPeer selecting them from all nodes.
func TestCompute_RouteReflectorTopologyPeersClientsWithRRsOnly(t *testing.T) {
	off := false
	rr := map[string]string{"route-reflector": "true"}
	st := &State{
		Nodes: []v3.Node{
			node("rr-1", "198.18.0.10/24", rr, withRR("244.0.0.1")),
			node("rr-2", "198.18.0.11/24", rr, withRR("244.0.0.1")),
			node("client-1", "198.18.0.20/24", nil),
			node("client-2", "198.18.0.21/24", nil),
		},
		BGPConfigurations: []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off})},
		BGPPeers:          []v3.BGPPeer{bgpPeer("peer-with-rrs", v3.BGPPeerSpec{NodeSelector: "all()", PeerSelector: "route-reflector == 'true'"})},
	}
	cases := map[string][]string{
		"client-1": {
			"Node_198_18_0_10 198.18.0.10:179 as64512 node specific",
			"Node_198_18_0_11 198.18.0.11:179 as64512 node specific",
		},
		"rr-1": {
			"Node_198_18_0_11 198.18.0.11:179 as64512 node specific",
			"Node_198_18_0_20 198.18.0.20:179 as64512 node specific rr-client",
			"Node_198_18_0_21 198.18.0.21:179 as64512 node specific rr-client",
		},
	}
	for self, want := range cases {
		d := mustCompute(t, self, st, nil)
		if got := peerSummary(d.Peers); !reflect.DeepEqual(got, want) {
			t.Errorf("%s peers:\n got %q\nwant %q", self, got, want)
		}
	}
	// reversePeering Manual: the RRs no longer peer back on their own.
	st.BGPPeers[0].Spec.ReversePeering = ptr(v3.ReversePeeringManual)
	st.BGPPeers[0].Spec.NodeSelector = "!has(route-reflector)"
	if d := mustCompute(t, "rr-1", st, nil); len(d.Peers) != 0 {
		t.Errorf("rr-1 with reversePeering Manual: got %q, want none", peerSummary(d.Peers))
	}
}

func TestCompute_PeerOptionsMapped(t *testing.T) {
	keep := v3.NextHopModeKeep
	st := &State{
		Nodes:      []v3.Node{node("node-a", "198.18.0.2/24", nil)},
		BGPFilters: []v3.BGPFilter{{ObjectMeta: metav1.ObjectMeta{Name: "only-pods"}}},
		BGPPeers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{
			PeerIP: "198.18.0.254", ASNumber: 65100, LocalASNumber: ptr(numorstring.ASNumber(65001)),
			NextHopMode: &keep, MaxRestartTime: &metav1.Duration{Duration: 30 * time.Second},
			Password: &v3.BGPPassword{SecretKeyRef: &v3.SecretKeySelector{Name: "bgp", Key: "tor"}},
			Filters:  []string{"only-pods", "missing"}, TTLSecurity: ptr(uint8(1)),
		})},
	}
	secrets := func(name, key string) (string, error) {
		if name == "bgp" && key == "tor" {
			return "s3cret", nil
		}
		return "", errors.New("no such secret")
	}
	d := mustCompute(t, "node-a", st, secrets)
	if len(d.Peers) != 1 {
		t.Fatalf("peers = %q, want one", peerSummary(d.Peers))
	}
	p := d.Peers[0]
	if p.LocalASN != 65001 || !p.KeepOriginalNextHop || p.MaxRestartTime != 30*time.Second ||
		p.Password != "s3cret" || p.TTLSecurity != 1 || !reflect.DeepEqual(p.Filters, []string{"only-pods"}) {
		t.Errorf("peer options not mapped: %+v", p)
	}
	if !p.External(d.ASN) {
		t.Errorf("peer AS 65100 with local AS 65001 should be eBGP")
	}
	if _, ok := d.Filters["only-pods"]; !ok || len(d.Filters) != 1 {
		t.Errorf("Filters = %v, want only-pods", d.Filters)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], `BGPFilter "missing"`) {
		t.Errorf("Problems = %q, want one naming the missing filter", d.Problems)
	}
	// Without a secret source the password is a problem, not a crash.
	d = mustCompute(t, "node-a", st, nil)
	if d.Peers[0].Password != "" || !strings.Contains(strings.Join(d.Problems, "\n"), `secret "bgp" key "tor"`) {
		t.Errorf("missing secret source: password %q problems %q", d.Peers[0].Password, d.Problems)
	}
}

func TestCompute_DualStackPeersPerFamily(t *testing.T) {
	st := &State{Nodes: []v3.Node{
		node("node-a", "198.18.0.2/24", nil, withV6("fd00:198:18::2/64")),
		node("node-b", "198.18.0.3/24", nil, withV6("fd00:198:18::3/64")),
		node("node-c", "198.18.0.4/24", nil), // IPv4 only
	}}
	d := mustCompute(t, "node-a", st, nil)
	want := []string{
		"Mesh_198_18_0_3 198.18.0.3:179 as64512 node-to-node mesh passive",
		"Mesh_198_18_0_4 198.18.0.4:179 as64512 node-to-node mesh passive",
		"Mesh_fd00_198_18__3 [fd00:198:18::3]:179 as64512 node-to-node mesh passive",
	}
	if got := peerSummary(d.Peers); !reflect.DeepEqual(got, want) {
		t.Errorf("peers:\n got %q\nwant %q", got, want)
	}
}

func TestCompute_FailsOnlyWhenNodeCannotRunBGP(t *testing.T) {
	if _, err := Compute("ghost", &State{Nodes: threeNodes()}, nil); err == nil || !strings.Contains(err.Error(), `node "ghost"`) {
		t.Errorf("missing node: err = %v, want it named", err)
	}
	n := node("bare", "", nil)
	if _, err := Compute("bare", &State{Nodes: []v3.Node{n}}, nil); err == nil || !strings.Contains(err.Error(), "ipv4Address") {
		t.Errorf("node without address: err = %v, want a hint about spec.bgp.ipv4Address", err)
	}
	v6only := node("v6", "", nil, withV6("fd00::5/64"))
	d := mustCompute(t, "v6", &State{Nodes: []v3.Node{v6only}}, nil)
	if !d.RouterID.Is4() || d.RouterID == d.IPv4 || d.RouterID.IsUnspecified() {
		t.Errorf("IPv6-only node RouterID = %s, want a derived IPv4 value", d.RouterID)
	}
}

func TestCompute_AdvertisesAffineBlocksAndBorrowedIPsInExportablePools(t *testing.T) {
	st := &State{
		Nodes: threeNodes(),
		IPPools: []v3.IPPool{
			pool("pods", "10.244.0.0/16", false),
			pool("private", "10.250.0.0/16", true),
		},
		BlockAffinities: []v3.BlockAffinity{
			affinity("node-a", "10.244.1.0/26", v3.StateConfirmed),
			affinity("node-a", "10.244.1.64/26", v3.StatePending),        // not yet ours
			affinity("node-a", "10.250.0.0/26", v3.StateConfirmed),       // pool disables export
			affinity("node-b", "10.244.2.0/26", v3.StateConfirmed),       // someone else's
			affinity("node-a", "10.244.9.0/26", v3.StatePendingDeletion), // being released
		},
		IPAMBlocks: []v3.IPAMBlock{
			block("10.244.2.0/26", "node-b", 64, map[int]string{5: "node-a", 6: "node-b"}), // .5 borrowed by us
			block("10.244.3.0/26", "node-a", 64, nil),                                      // no affinity object: block's own affinity counts
			block("10.99.0.0/26", "node-a", 64, nil),                                       // outside every pool: blackhole only
		},
		BGPConfigurations: []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{
			ServiceClusterIPs: []v3.ServiceClusterIPBlock{{CIDR: "10.96.0.0/12"}},
			Communities:       []v3.Community{{Name: "pods", Value: "65000:100"}},
			PrefixAdvertisements: []v3.PrefixAdvertisement{
				{CIDR: "10.244.0.0/16", Communities: []string{"pods", "65000:200:300"}},
				{CIDR: "10.244.3.0/24", Communities: []string{"pods", "no-such-name"}},
			},
		})},
	}
	d := mustCompute(t, "node-a", st, nil)
	var got []string
	for _, a := range d.Advertisements {
		got = append(got, a.Prefix.String()+" "+string(a.Kind)+" "+strings.Join(a.Communities, ","))
	}
	want := []string{
		"10.96.0.0/12 service-cluster-ip ",
		"10.244.1.0/26 block 65000:100,65000:200:300",
		"10.244.2.5/32 borrowed-ip 65000:100,65000:200:300",
		"10.244.3.0/26 block 65000:100,65000:200:300",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("advertisements:\n got %q\nwant %q", got, want)
	}
	var bh []string
	for _, p := range d.Blackholes {
		bh = append(bh, p.String())
	}
	if wantBH := []string{"10.99.0.0/26", "10.244.1.0/26", "10.244.3.0/26", "10.250.0.0/26"}; !reflect.DeepEqual(bh, wantBH) {
		t.Errorf("blackholes = %q, want %q", bh, wantBH)
	}
	if !strings.Contains(strings.Join(d.Problems, "\n"), `"no-such-name"`) {
		t.Errorf("Problems = %q, want the unknown community named", d.Problems)
	}
}

func TestCompute_IsDeterministic(t *testing.T) {
	st := &State{
		Nodes:           threeNodes(),
		IPPools:         []v3.IPPool{pool("pods", "10.244.0.0/16", false)},
		BlockAffinities: []v3.BlockAffinity{affinity("node-a", "10.244.1.0/26", v3.StateConfirmed), affinity("node-a", "10.244.0.0/26", v3.StateConfirmed)},
		BGPPeers:        []v3.BGPPeer{bgpPeer("z", v3.BGPPeerSpec{PeerIP: "198.18.0.250", ASNumber: 1}), bgpPeer("a", v3.BGPPeerSpec{PeerIP: "198.18.0.251", ASNumber: 1})},
	}
	first := mustCompute(t, "node-a", st, nil)
	for i := 0; i < 20; i++ {
		if again := mustCompute(t, "node-a", st, nil); !reflect.DeepEqual(first, again) {
			t.Fatalf("run %d differs:\n%+v\n%+v", i, first, again)
		}
	}
}

func TestParsePeerIP_AcceptsCalicoForms(t *testing.T) {
	cases := []struct {
		in   string
		want string
		err  bool
	}{
		{in: "198.18.0.1", want: "198.18.0.1:0"},
		{in: "198.18.0.1:1179", want: "198.18.0.1:1179"},
		{in: "[fd00::1]:1179", want: "[fd00::1]:1179"},
		{in: "fd00::1", want: "[fd00::1]:0"},
		{in: "nope", err: true},
		{in: "198.18.0.1:0", err: true},
		{in: "198.18.0.1:70000", err: true},
	}
	for _, tc := range cases {
		a, p, err := parsePeerIP(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("parsePeerIP(%q) err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err {
			if got := netip.AddrPortFrom(a, p).String(); got != tc.want {
				t.Errorf("parsePeerIP(%q) = %s, want %s", tc.in, got, tc.want)
			}
		}
	}
}
