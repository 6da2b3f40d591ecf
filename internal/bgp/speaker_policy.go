package bgp

import (
	"context"
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v4/api"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// GoBGP only evaluates per-peer import/export policies for route-server
// clients; for ordinary peers both directions use the global policies. So
// the speaker keeps exactly two global policies, re-defined as a whole on
// every change, whose statements are scoped to peers with neighbor-set
// conditions (GoBGP matches a neighbor set against the sending peer on
// import and the receiving peer on export):
//
//	tricolor-export: next-hop statements (no verdict, evaluation goes on),
//	                 then each peer's BGPFilter export rules in order
//	tricolor-import: each peer's BGPFilter import rules in order
//
// The first rule with a verdict decides; a route no rule matches is
// accepted, as in Calico (filters narrow, they do not replace, the defaults).
const (
	policyImport = "tricolor-import"
	policyExport = "tricolor-export"
)

// stmt is one policy statement in a form that is easy to compare.
type stmt struct {
	neighbor   netip.Addr
	prefix     *prefixMatch // nil: any prefix
	routeTypes []api.Conditions_RouteType
	action     api.RouteAction
	nextHop    string // "", "self" or "unchanged"
}

// prefixMatch is a prefix set condition.
type prefixMatch struct {
	cidr     netip.Prefix
	min, max int
	invert   bool
}

// policySpec is the whole desired policy; compared with == via fmt.
type policySpec struct {
	exports, imports []stmt
}

// buildPolicySpec derives the statements for d's peers.
func buildPolicySpec(d *Desired) policySpec {
	var ps policySpec
	for _, p := range d.Peers {
		switch {
		case p.KeepOriginalNextHop:
			ps.exports = append(ps.exports, stmt{neighbor: p.Address, nextHop: "unchanged"})
		case p.NextHopSelf:
			ps.exports = append(ps.exports, stmt{neighbor: p.Address, nextHop: "self"})
		}
	}
	for _, p := range d.Peers {
		for _, name := range p.Filters {
			f := d.Filters[name]
			if p.Address.Is4() {
				for _, r := range f.ExportV4 {
					ps.exports = append(ps.exports, ruleStmts(p.Address, r.CIDR, r.MatchOperator, plV4(r.PrefixLength), r.Source, r.Interface, r.Action, 32)...)
				}
				for _, r := range f.ImportV4 {
					ps.imports = append(ps.imports, ruleStmts(p.Address, r.CIDR, r.MatchOperator, plV4(r.PrefixLength), r.Source, r.Interface, r.Action, 32)...)
				}
			} else {
				for _, r := range f.ExportV6 {
					ps.exports = append(ps.exports, ruleStmts(p.Address, r.CIDR, r.MatchOperator, plV6(r.PrefixLength), r.Source, r.Interface, r.Action, 128)...)
				}
				for _, r := range f.ImportV6 {
					ps.imports = append(ps.imports, ruleStmts(p.Address, r.CIDR, r.MatchOperator, plV6(r.PrefixLength), r.Source, r.Interface, r.Action, 128)...)
				}
			}
		}
	}
	return ps
}

func plV4(p *v3.BGPFilterPrefixLengthV4) [2]*int32 {
	if p == nil {
		return [2]*int32{}
	}
	return [2]*int32{p.Min, p.Max}
}

func plV6(p *v3.BGPFilterPrefixLengthV6) [2]*int32 {
	if p == nil {
		return [2]*int32{}
	}
	return [2]*int32{p.Min, p.Max}
}

// ruleStmts maps one BGPFilter rule. Equal/NotEqual match the CIDR itself
// (prefix length exactly the CIDR's unless prefixLength says otherwise);
// In/NotIn match prefixes inside it (lengths CIDR..max); Not* invert the
// match. Source RemotePeers means routes learned from peers: one statement
// per route type (GoBGP matches one type per condition).
//
// Rules with an interface condition are skipped (Compute reports them): we
// do not export interface routes yet, so such a rule could only match
// wrongly.
func ruleStmts(peer netip.Addr, cidr string, op v3.BGPFilterMatchOperator, pl [2]*int32, src v3.BGPFilterMatchSource, iface string, action v3.BGPFilterAction, bits int) []stmt {
	if iface != "" {
		return nil
	}
	s := stmt{neighbor: peer, action: api.RouteAction_ROUTE_ACTION_ACCEPT}
	if action == v3.FilterActionReject {
		s.action = api.RouteAction_ROUTE_ACTION_REJECT
	}
	if cidr != "" {
		c, err := netip.ParsePrefix(cidr)
		if err != nil {
			return nil // validated on write; never here
		}
		m := &prefixMatch{cidr: c.Masked(), min: c.Bits(), max: bits}
		if op == v3.MatchOperatorEqual || op == v3.MatchOperatorNotEqual {
			m.max = c.Bits()
		}
		if pl[0] != nil {
			m.min = int(*pl[0])
		}
		if pl[1] != nil {
			m.max = int(*pl[1])
		}
		m.invert = op == v3.MatchOperatorNotEqual || op == v3.MatchOperatorNotIn
		s.prefix = m
	}
	if src != v3.BGPFilterSourceRemotePeers {
		return []stmt{s}
	}
	in, ex := s, s
	in.routeTypes = []api.Conditions_RouteType{api.Conditions_ROUTE_TYPE_INTERNAL}
	ex.routeTypes = []api.Conditions_RouteType{api.Conditions_ROUTE_TYPE_EXTERNAL}
	return []stmt{in, ex}
}

// request turns the spec into GoBGP's SetPolicies request.
func (ps policySpec) request() *api.SetPoliciesRequest {
	req := &api.SetPoliciesRequest{}
	nbrSets := map[netip.Addr]string{}
	nbrSet := func(a netip.Addr) string {
		if n, ok := nbrSets[a]; ok {
			return n
		}
		n := fmt.Sprintf("tc-nbr-%d", len(nbrSets))
		nbrSets[a] = n
		req.DefinedSets = append(req.DefinedSets, &api.DefinedSet{
			DefinedType: api.DefinedType_DEFINED_TYPE_NEIGHBOR, Name: n,
			List: []string{netip.PrefixFrom(a, a.BitLen()).String()},
		})
		return n
	}
	convert := func(dir string, ss []stmt) *api.Policy {
		pol := &api.Policy{Name: "tricolor-" + dir}
		for i, s := range ss {
			st := &api.Statement{
				Name:       fmt.Sprintf("tc-%s-%d", dir, i),
				Conditions: &api.Conditions{NeighborSet: &api.MatchSet{Type: api.MatchSet_TYPE_ANY, Name: nbrSet(s.neighbor)}},
				Actions:    &api.Actions{RouteAction: s.action},
			}
			if s.prefix != nil {
				name := fmt.Sprintf("tc-pfx-%s-%d", dir, i)
				req.DefinedSets = append(req.DefinedSets, &api.DefinedSet{
					DefinedType: api.DefinedType_DEFINED_TYPE_PREFIX, Name: name,
					Prefixes: []*api.Prefix{{IpPrefix: s.prefix.cidr.String(), MaskLengthMin: uint32(s.prefix.min), MaskLengthMax: uint32(s.prefix.max)}},
				})
				t := api.MatchSet_TYPE_ANY
				if s.prefix.invert {
					t = api.MatchSet_TYPE_INVERT
				}
				st.Conditions.PrefixSet = &api.MatchSet{Type: t, Name: name}
			}
			if len(s.routeTypes) == 1 {
				st.Conditions.RouteType = s.routeTypes[0]
			}
			switch s.nextHop {
			case "self":
				st.Actions.Nexthop = &api.NexthopAction{Self: true}
			case "unchanged":
				st.Actions.Nexthop = &api.NexthopAction{Unchanged: true}
			}
			pol.Statements = append(pol.Statements, st)
		}
		return pol
	}
	req.Policies = []*api.Policy{convert("export", ps.exports), convert("import", ps.imports)}
	return req
}

// reconcilePolicies redefines the two global policies when the spec
// changed, assigns them once per server, and soft-resets the sessions so
// routes already exchanged are re-evaluated.
func (s *Speaker) reconcilePolicies(ctx context.Context, d *Desired) (changed bool, err error) {
	spec := buildPolicySpec(d)
	fp := fmt.Sprintf("%+v", spec)
	if s.policyAssigned && fp == s.policyFP {
		return false, nil
	}
	if err := s.srv.SetPolicies(ctx, spec.request()); err != nil {
		return false, fmt.Errorf("set BGP policies (filters, next-hop modes): %w", err)
	}
	if !s.policyAssigned {
		for _, a := range []struct {
			dir  api.PolicyDirection
			name string
		}{{api.PolicyDirection_POLICY_DIRECTION_IMPORT, policyImport}, {api.PolicyDirection_POLICY_DIRECTION_EXPORT, policyExport}} {
			err := s.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
				Name: "global", Direction: a.dir, Policies: []*api.Policy{{Name: a.name}},
				DefaultAction: api.RouteAction_ROUTE_ACTION_ACCEPT,
			}})
			if err != nil {
				return false, fmt.Errorf("assign BGP policy %s: %w", a.name, err)
			}
		}
		s.policyAssigned = true
	}
	changed = s.policyFP != "" && fp != s.policyFP
	s.policyFP = fp
	return changed, nil
}

// softResetAll re-runs policies over routes already exchanged.
func (s *Speaker) softResetAll(ctx context.Context) {
	for addr := range s.peers {
		err := s.srv.ResetPeer(ctx, &api.ResetPeerRequest{Address: addr.String(), Soft: true, Direction: api.ResetPeerRequest_DIRECTION_BOTH})
		if err != nil {
			s.log.Debug("soft reset after policy change", "peer", addr, "err", err)
		}
	}
}
