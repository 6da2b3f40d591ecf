package v3

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
)

func TestParseHostPort_AcceptsCalicoPeerIPForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		ok   bool
	}{
		{"198.18.0.1", 0, true},
		{"198.18.0.1:1179", 1179, true},
		{"fd00::1", 0, true},
		{"[fd00::1]:179", 179, true},
		{"[198.18.0.1]:179", 0, false},
		{"198.18.0.1:0", 0, false},
		{"198.18.0.1:65536", 0, false},
		{"router.example:179", 0, false},
		{"fd00::1:179:x", 0, false},
	} {
		_, port, ok := parseHostPort(tc.in)
		if ok != tc.ok || (ok && port != tc.port) {
			t.Errorf("parseHostPort(%q) = port %d ok %v; want port %d ok %v", tc.in, port, ok, tc.port, tc.ok)
		}
	}
}

// validationCase is one resource and the error text expected ("" = valid).
type validationCase struct {
	name string
	r    Resource
	want string
}

func runValidationCases(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want error containing %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func TestBGPPeer_Validate_CombinationsAndAddresses(t *testing.T) {
	as := numorstring.ASNumber(64513)
	runValidationCases(t, []validationCase{
		{"reachableBy family must match peer", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: as, ReachableBy: "fd00::1"}}, "different IP families"},
		{"reachableBy needs peerIP", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerSelector: "all()", ReachableBy: "198.18.0.254"}}, "needs spec.peerIP"},
		{"node and nodeSelector exclusive", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{Node: "n1", NodeSelector: "all()", PeerIP: "198.18.0.1", ASNumber: as}}, "cannot be combined with spec.node"},
		{"asNumber with peerSelector", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerSelector: "all()", ASNumber: as}}, "must be empty with spec.peerSelector"},
		{"localWorkloadSelector needs AS", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{LocalWorkloadSelector: "all()"}}, "is required with spec.localWorkloadSelector"},
		{"bad nextHopMode", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: as, NextHopMode: netPtr(NextHopMode("Other"))}}, "spec.nextHopMode"},
		{"password needs key", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerIP: "198.18.0.1", ASNumber: as, Password: &BGPPassword{SecretKeyRef: &SecretKeySelector{Name: "s"}}}}, "secretKeyRef.key: is required"},
		{"valid IPv6 with port", &BGPPeer{ObjectMeta: meta("p"), Spec: BGPPeerSpec{PeerIP: "[fd00::1]:1179", ASNumber: as, ReachableBy: "fd00::fffe"}}, ""},
	})
}

func TestIPAMBlock_Validate_Consistency(t *testing.T) {
	zero := 0
	block := func(alloc []*int, unalloc []int, attrs int) *IPAMBlock {
		return &IPAMBlock{ObjectMeta: meta("10-0-0-0-30"), Spec: IPAMBlockSpec{
			CIDR: "10.0.0.0/30", Allocations: alloc, Unallocated: unalloc, Attributes: make([]AllocationAttribute, attrs)}}
	}
	runValidationCases(t, []validationCase{
		{"consistent", block([]*int{&zero, nil, nil, nil}, []int{1, 2, 3}, 1), ""},
		{"attribute index out of range", block([]*int{&zero, nil, nil, nil}, []int{1, 2, 3}, 0), "attribute index 0 is out of range"},
		{"free ordinal allocated", block([]*int{&zero, nil, nil, nil}, []int{0, 1}, 1), "ordinal 0 is listed free but is allocated"},
		{"free ordinal twice", block([]*int{nil, nil, nil, nil}, []int{1, 1}, 0), "ordinal 1 is listed twice"},
		{"bad affinity", &IPAMBlock{ObjectMeta: meta("b"), Spec: IPAMBlockSpec{CIDR: "10.0.0.0/30", Affinity: netPtr("rack1"), Allocations: make([]*int, 4)}}, "not a valid affinity"},
		{"block too large", &IPAMBlock{ObjectMeta: meta("b"), Spec: IPAMBlockSpec{CIDR: "10.0.0.0/8"}}, "too large for a block"},
	})
}

func TestBGPFilter_Validate_PrefixLengths(t *testing.T) {
	i32 := func(n int32) *int32 { return &n }
	rule := func(cidr string, min, max *int32) *BGPFilter {
		return &BGPFilter{ObjectMeta: meta("f"), Spec: BGPFilterSpec{ExportV4: []BGPFilterRuleV4{{
			CIDR: cidr, MatchOperator: MatchOperatorIn, Action: FilterActionAccept,
			PrefixLength: &BGPFilterPrefixLengthV4{Min: min, Max: max}}}}}
	}
	runValidationCases(t, []validationCase{
		{"within range", rule("10.0.0.0/16", i32(16), i32(32)), ""},
		{"min above max", rule("10.0.0.0/16", i32(28), i32(24)), "min 28 is greater than max 24"},
		{"shorter than cidr", rule("10.0.0.0/16", i32(8), nil), "shorter than the CIDR's own /16"},
		{"cidr without operator", &BGPFilter{ObjectMeta: meta("f"), Spec: BGPFilterSpec{ImportV4: []BGPFilterRuleV4{{CIDR: "10.0.0.0/8", Action: FilterActionReject}}}}, "matchOperator: is required with cidr"},
		{"action required", &BGPFilter{ObjectMeta: meta("f"), Spec: BGPFilterSpec{ImportV6: []BGPFilterRuleV6{{}}}}, "action: is required"},
	})
}

func TestNode_Validate_AddressForms(t *testing.T) {
	node := func(spec NodeSpec) *Node { return &Node{ObjectMeta: meta("host-1.example"), Spec: spec} }
	runValidationCases(t, []validationCase{
		{"host bits allowed in BGP address", node(NodeSpec{BGP: &NodeBGPSpec{IPv4Address: "198.18.0.2/24", IPv6Address: "fd00::2/64"}}), ""},
		{"bare BGP address accepted", node(NodeSpec{BGP: &NodeBGPSpec{IPv4Address: "198.18.0.2"}}), ""},
		{"IPv6 in IPv4 field", node(NodeSpec{BGP: &NodeBGPSpec{IPv4Address: "fd00::2/64"}}), "spec.bgp.ipv4Address"},
		{"bad MAC", node(NodeSpec{VXLANTunnelMACAddr: "66:a5:3c"}), "not a valid MAC"},
		{"bad address type", node(NodeSpec{Addresses: []NodeAddress{{Address: "198.18.0.2", Type: "PodIP"}}}), "spec.addresses[0].type"},
		{"bad wireguard key", &Node{ObjectMeta: meta("n"), Status: NodeStatus{WireguardPublicKey: "abc"}}, "not a WireGuard key"},
	})
}

func TestDefaults_AppliedOnlyWhereCalicoApplies(t *testing.T) {
	c := NewBGPConfiguration()
	c.Name = "default"
	c.Default()
	if c.Spec.ServiceLoadBalancerAggregation == nil || *c.Spec.ServiceLoadBalancerAggregation != ServiceLoadBalancerAggregationEnabled {
		t.Errorf("serviceLoadBalancerAggregation = %v; want Enabled (Calico's schema default)", c.Spec.ServiceLoadBalancerAggregation)
	}
	if c.Spec.ASNumber != nil || c.Spec.NodeToNodeMeshEnabled != nil || c.Spec.LogSeverityScreen != "" {
		t.Errorf("Default wrote run-time defaults into the resource: %+v", c.Spec)
	}
	f := NewFelixConfiguration()
	f.Default()
	if f.Spec.LogSeverityScreen != "" || f.Spec.IPv6Support != nil {
		t.Errorf("FelixConfiguration.Default wrote fields: %+v", f.Spec)
	}
	for _, etcd := range []bool{false, true} {
		k := NewKubeControllersConfiguration()
		k.Name = KubeControllersConfigurationName
		k.Spec = DefaultKubeControllersConfigurationSpec(etcd)
		if err := k.Validate(); err != nil {
			t.Errorf("stock kube-controllers configuration (etcd=%v) is invalid: %v", etcd, err)
		}
		if (k.Spec.Controllers.Policy != nil) != etcd {
			t.Errorf("etcd=%v: policy controller enabled = %v", etcd, k.Spec.Controllers.Policy != nil)
		}
	}
}

func TestFelixConfiguration_Validate_Ranges(t *testing.T) {
	felix := func(s FelixConfigurationSpec) *FelixConfiguration {
		return &FelixConfiguration{ObjectMeta: meta("node.host-1"), Spec: s}
	}
	named := numorstring.NamedPort("http")
	runValidationCases(t, []validationCase{
		{"VNI too large", felix(FelixConfigurationSpec{VXLANVNI: netPtr(1 << 24)}), "spec.vxlanVNI"},
		{"named NAT port range", felix(FelixConfigurationSpec{NATPortRange: &named}), "is a port name"},
		{"log level any case", felix(FelixConfigurationSpec{LogSeverityScreen: "warning"}), ""},
		{"bad regexp", felix(FelixConfigurationSpec{MTUIfacePattern: "(eth"}), "not a valid regular expression"},
		{"negative duration", felix(FelixConfigurationSpec{RouteRefreshInterval: &metav1.Duration{Duration: -1}}), "is negative"},
		{"bad conntrack timeout", felix(FelixConfigurationSpec{BPFConntrackTimeouts: &BPFConntrackTimeouts{UDPTimeout: netPtr(BPFConntrackTimeout("soon"))}}), "bpfConntrackTimeouts.udpTimeout"},
	})
}

func netPtr[T any](v T) *T { return &v }
