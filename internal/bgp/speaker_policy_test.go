package bgp

import (
	"net/netip"
	"strings"
	"testing"

	api "github.com/osrg/gobgp/v4/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

func TestBuildPolicySpec_MapsFilterRulesAndNextHopModes(t *testing.T) {
	min, max := int32(24), int32(28)
	st := &State{
		Nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil)},
		BGPFilters: []v3.BGPFilter{{ObjectMeta: metav1.ObjectMeta{Name: "f"}, Spec: v3.BGPFilterSpec{
			ExportV4: []v3.BGPFilterRuleV4{
				{CIDR: "10.244.0.0/16", MatchOperator: v3.MatchOperatorIn, PrefixLength: &v3.BGPFilterPrefixLengthV4{Min: &min, Max: &max}, Action: v3.FilterActionAccept},
				{CIDR: "10.0.0.0/8", MatchOperator: v3.MatchOperatorNotEqual, Action: v3.FilterActionReject},
			},
			ImportV4: []v3.BGPFilterRuleV4{{Source: v3.BGPFilterSourceRemotePeers, Action: v3.FilterActionReject}},
			ImportV6: []v3.BGPFilterRuleV6{{CIDR: "fd00::/8", MatchOperator: v3.MatchOperatorIn, Action: v3.FilterActionReject}},
		}}},
		BGPPeers: []v3.BGPPeer{
			bgpPeer("keep", v3.BGPPeerSpec{PeerIP: "198.18.0.254", ASNumber: 65000, KeepOriginalNextHop: true, Filters: []string{"f"}}),
			bgpPeer("self", v3.BGPPeerSpec{PeerIP: "198.18.0.253", ASNumber: 65000, NextHopMode: ptr(v3.NextHopModeSelf)}),
		},
	}
	d := mustCompute(t, "node-a", st, nil)
	ps := buildPolicySpec(d)
	keep, self := netip.MustParseAddr("198.18.0.254"), netip.MustParseAddr("198.18.0.253")
	if len(ps.exports) != 4 || ps.exports[0].neighbor != self || ps.exports[0].nextHop != "self" ||
		ps.exports[1].neighbor != keep || ps.exports[1].nextHop != "unchanged" {
		t.Fatalf("exports = %+v, want next-hop statements first", ps.exports)
	}
	in := ps.exports[2]
	if in.prefix == nil || in.prefix.min != 24 || in.prefix.max != 28 || in.prefix.invert || in.action != api.RouteAction_ROUTE_ACTION_ACCEPT {
		t.Errorf("In rule = %+v %+v", in, in.prefix)
	}
	ne := ps.exports[3]
	if ne.prefix == nil || ne.prefix.min != 8 || ne.prefix.max != 8 || !ne.prefix.invert || ne.action != api.RouteAction_ROUTE_ACTION_REJECT {
		t.Errorf("NotEqual rule = %+v %+v", ne, ne.prefix)
	}
	// RemotePeers: one statement per route type; the v6 rule does not apply to an IPv4 peer.
	if len(ps.imports) != 2 || ps.imports[0].routeTypes[0] != api.Conditions_ROUTE_TYPE_INTERNAL || ps.imports[1].routeTypes[0] != api.Conditions_ROUTE_TYPE_EXTERNAL {
		t.Errorf("imports = %+v", ps.imports)
	}
	req := ps.request()
	if len(req.Policies) != 2 || req.Policies[0].Name != policyExport || req.Policies[1].Name != policyImport || len(req.Policies[0].Statements) != 4 {
		t.Fatalf("request policies = %v", req.Policies)
	}
	var nbr, pfx int
	for _, s := range req.DefinedSets {
		switch s.DefinedType {
		case api.DefinedType_DEFINED_TYPE_NEIGHBOR:
			nbr++
		case api.DefinedType_DEFINED_TYPE_PREFIX:
			pfx++
		}
	}
	if nbr != 2 || pfx != 2 {
		t.Errorf("defined sets: %d neighbor, %d prefix; want one neighbor set per peer and one prefix set per CIDR rule", nbr, pfx)
	}
}

func TestBuildPolicySpec_SkipsInterfaceRulesAndReportsThem(t *testing.T) {
	st := &State{
		Nodes: []v3.Node{node("node-a", "198.18.0.2/24", nil)},
		BGPFilters: []v3.BGPFilter{{ObjectMeta: metav1.ObjectMeta{Name: "ifaces"}, Spec: v3.BGPFilterSpec{
			ExportV4: []v3.BGPFilterRuleV4{{Interface: "eth*", Action: v3.FilterActionReject}},
		}}},
		BGPPeers: []v3.BGPPeer{bgpPeer("tor", v3.BGPPeerSpec{PeerIP: "198.18.0.254", ASNumber: 65000, Filters: []string{"ifaces"}})},
	}
	d := mustCompute(t, "node-a", st, nil)
	if ps := buildPolicySpec(d); len(ps.exports) != 0 {
		t.Errorf("interface rule produced statements: %+v", ps.exports)
	}
	if len(d.Problems) != 1 || !strings.Contains(d.Problems[0], `bgpfilter "ifaces": 1 rule(s) match on interface`) {
		t.Errorf("Problems = %q", d.Problems)
	}
}
