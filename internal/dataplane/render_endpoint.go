package dataplane

import (
	"fmt"
	"slices"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// renderPolicyChains adds a policy's inbound and outbound chains. Only the
// directions the policy has rules for (or applies to) get a chain; the
// endpoint chains jump to them by name, so one chain serves every endpoint
// the policy selects.
func (m *PolicyManager) renderPolicyChains(t *nft.Table, id calc.PolicyID, p *calc.Policy) {
	who := fmt.Sprintf("policy %s (tier %s)", id.String(), id.Tier)
	m.renderRulesChain(t, policyChain(id, true), who+" ingress", p.InboundRules)
	m.renderRulesChain(t, policyChain(id, false), who+" egress", p.OutboundRules)
}

// renderProfileChains adds a profile's two chains.
func (m *PolicyManager) renderProfileChains(t *nft.Table, name string, p *calc.Profile) {
	who := "profile " + name
	if p.Missing {
		who += " (missing: deny)"
	}
	m.renderRulesChain(t, profileChain(name, true), who+" ingress", p.InboundRules)
	m.renderRulesChain(t, profileChain(name, false), who+" egress", p.OutboundRules)
}

func (m *PolicyManager) renderRulesChain(t *nft.Table, name, who string, rules []calc.Rule) {
	c := t.AddChain(name, nil)
	rr := ruleRenderer{logPrefix: m.logPrefix(), interval: m.setInterval, families: m.families()}
	for i := range rules {
		for _, text := range rr.render(&rules[i]) {
			c.Add(text, fmt.Sprintf("%s rule %d %s", who, i, rules[i].Action))
		}
	}
}

// endpointChainSpec is what renderEndpointChain needs for one direction of
// one endpoint.
type endpointChainSpec struct {
	name    string // chain name
	who     string // "to wep ns/pod"
	inbound bool   // policy direction: ingress (to the endpoint) or egress
	tiers   []calc.TierInfo
	// profiles are applied after the tiers.
	profiles []string
	// prelude rules run first (anti-spoofing).
	prelude []nft.Rule
	// known says whether a policy or profile chain exists.
	known func(chain string) bool
	// allowAtEnd ends the chain with "allowed" instead of drop (forwarded
	// host-endpoint traffic that passed every tier).
	allowAtEnd bool
	// noDefaultDeny (preDNAT and untracked policy) drops nothing that no
	// rule decided: no end-of-tier drop, no final drop, no profiles; the
	// packet goes on to the next stage.
	noDefaultDeny bool
	// onAllow is appended to the "allowed by policy" return (notrack for
	// untracked policy).
	onAllow string
}

// renderEndpointChain adds one endpoint chain:
//
//	clear accept/pass marks
//	per tier with policies for this direction:
//	    per policy: (accept and pass not set) jump pi-/po-<policy>
//	    accepted → return
//	    (pass not set) drop            ← tier default action Deny
//	    clear pass mark
//	per profile: jump pri-/pro-<profile>; accepted → return
//	drop                               ← nothing allowed it (fail closed)
//
// Deny rules drop inside the policy chain; an endpoint chain never falls off
// its end (which would mean "allowed"). Calico returns right after each
// policy that accepted (two rules per policy); here the jumps after an
// accepting policy are skipped by their mark test and one return ends the
// tier. That halves an endpoint chain, and the kernel re-validates every
// rule of the table on each commit that adds one, so it shortens every
// policy change; the price, a mark test per remaining policy, is paid by
// the first packet of a flow only.
func renderEndpointChain(t *nft.Table, s endpointChainSpec) {
	c := t.AddChain(s.name, nil)
	c.Add(fmt.Sprintf("meta mark set meta mark & 0x%x", ^(markAccept|markPass)), s.who+": clear accept/pass marks")
	for _, r := range s.prelude {
		c.Add(r.Text, s.who+": "+r.Comment)
	}
	for _, tier := range s.tiers {
		pols := tier.EgressPolicies
		if s.inbound {
			pols = tier.IngressPolicies
		}
		if len(pols) == 0 {
			continue
		}
		for _, id := range pols {
			if !s.known(policyChain(id, s.inbound)) {
				// calc sends a policy before any endpoint using it; if it
				// is missing anyway, fail closed rather than jump nowhere.
				c.Add("counter drop", fmt.Sprintf("%s: policy %s not received: fail closed", s.who, id.String()))
				continue
			}
			c.Add(fmt.Sprintf("meta mark & 0x%x == 0 jump %s", markAccept|markPass, policyChain(id, s.inbound)),
				fmt.Sprintf("%s: tier %s policy %s", s.who, tier.Name, id.String()))
		}
		c.Add(fmt.Sprintf("meta mark & 0x%x != 0 %sreturn", markAccept, s.onAllow),
			fmt.Sprintf("%s: allowed by a policy in tier %s", s.who, tier.Name))
		if tier.DefaultAction != v3.Pass && !s.noDefaultDeny {
			c.Add(fmt.Sprintf("meta mark & 0x%x == 0 counter drop", markPass),
				fmt.Sprintf("%s: end of tier %s, default action Deny", s.who, tier.Name))
		}
		c.Add(fmt.Sprintf("meta mark set meta mark & 0x%x", ^markPass), fmt.Sprintf("%s: leave tier %s", s.who, tier.Name))
	}
	if s.noDefaultDeny {
		return // falls off the end: back to the hook, undecided
	}
	for _, prof := range s.profiles {
		if !s.known(profileChain(prof, s.inbound)) {
			c.Add("counter drop", fmt.Sprintf("%s: profile %s not received: fail closed", s.who, prof))
			continue
		}
		c.Add("jump "+profileChain(prof, s.inbound), fmt.Sprintf("%s: profile %s", s.who, prof))
		c.Add(fmt.Sprintf("meta mark & 0x%x != 0 return", markAccept), fmt.Sprintf("%s: allowed by profile %s", s.who, prof))
	}
	if s.allowAtEnd {
		c.Add(fmt.Sprintf("meta mark set meta mark | 0x%x return", markAccept), s.who+": passed every tier")
		return
	}
	c.Add("counter drop", s.who+": no policy or profile allowed it")
}

// renderWorkload adds a workload's two endpoint chains and its verdict map
// entries.
func (m *PolicyManager) renderWorkload(t *nft.Table, id calc.WorkloadEndpointID, ep *calc.WorkloadEndpoint) {
	if ep.InterfaceName == "" {
		return
	}
	who := id.Namespace + "/" + id.Name
	renderEndpointChain(t, endpointChainSpec{
		name: toWLChain(ep.InterfaceName), who: "to wep " + who, inbound: true,
		tiers: ep.Tiers, profiles: ep.Profiles, known: m.knownChain,
	})
	renderEndpointChain(t, endpointChainSpec{
		name: fromWLChain(ep.InterfaceName), who: "from wep " + who, inbound: false,
		tiers: ep.Tiers, profiles: ep.Profiles, prelude: antiSpoof(ep, m.families()), known: m.knownChain,
	})
	t.Maps[mapToWL].Elements[ep.InterfaceName] = "goto " + toWLChain(ep.InterfaceName)
	t.Maps[mapHostToWL].Elements[ep.InterfaceName] = "accept"
	t.Maps[mapFromWL].Elements[ep.InterfaceName] = "goto " + fromWLChain(ep.InterfaceName)
}

// antiSpoof drops packets from a workload whose source is not one of its
// addresses (or an allowed spoofed prefix), per family (of fams) it has
// addresses in.
func antiSpoof(ep *calc.WorkloadEndpoint, fams []int) []nft.Rule {
	var out []nft.Rule
	for _, f := range []struct {
		fam  int
		kw   string
		nets []string
	}{{4, "ip", ep.IPv4Nets}, {6, "ip6", ep.IPv6Nets}} {
		if len(f.nets) == 0 || !slices.Contains(fams, f.fam) {
			continue
		}
		allowed := netsOfFamily(append(append([]string{}, f.nets...), ep.AllowSpoofedSourcePrefixes...), f.fam)
		out = append(out, nft.Rule{
			Text:    fmt.Sprintf("%s saddr != %s counter drop", f.kw, literalSet(allowed)),
			Comment: "source is not the workload's (anti-spoofing)",
		})
	}
	return out
}
