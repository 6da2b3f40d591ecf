package dataplane

import (
	"fmt"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// Calico's default failsafe ports: SSH, DHCP, BGP, etcd, Typha, the
// Kubernetes API server; outbound also DNS and DHCP.
var (
	defaultFailsafeIn = []v3.ProtoPort{{Protocol: "tcp", Port: 22}, {Protocol: "udp", Port: 68}, {Protocol: "tcp", Port: 179},
		{Protocol: "tcp", Port: 2379}, {Protocol: "tcp", Port: 2380}, {Protocol: "tcp", Port: 5473}, {Protocol: "tcp", Port: 6443},
		{Protocol: "tcp", Port: 6666}, {Protocol: "tcp", Port: 6667}}
	defaultFailsafeOut = []v3.ProtoPort{{Protocol: "udp", Port: 53}, {Protocol: "udp", Port: 67}, {Protocol: "tcp", Port: 179},
		{Protocol: "tcp", Port: 2379}, {Protocol: "tcp", Port: 2380}, {Protocol: "tcp", Port: 5473}, {Protocol: "tcp", Port: 6443},
		{Protocol: "tcp", Port: 6666}, {Protocol: "tcp", Port: 6667}}
)

// renderHost adds a host endpoint's chains and dispatch entries. Only
// endpoints naming one interface are rendered (interfaceName "*" and
// expectedIPs-only endpoints are not yet; see docs/felix.md).
//
//	input  iifname vmap @from-hep → fh-<iface>: failsafe in, ingress tiers, profiles, drop
//	output oifname vmap @to-hep   → th-<iface>: failsafe out, egress tiers, profiles, drop
//	forward (applyOnForward tiers only; no such policy in a direction: allowed)
//	       iifname vmap @from-hep-fwd → ffh-<iface>, oifname vmap @to-hep-fwd → fth-<iface>
func (m *PolicyManager) renderHost(t *nft.Table, name string, ep *calc.HostEndpoint) {
	iface := ep.InterfaceName
	if iface == "" || iface == "*" || strings.ContainsAny(iface, "\" *") {
		return
	}
	who := "hep " + name
	renderEndpointChain(t, endpointChainSpec{
		name: fromHEPChain(iface), who: "from " + who, inbound: true,
		tiers: ep.Tiers, profiles: ep.Profiles, known: m.knownChain,
		prelude: failsafe(m.failsafeIn(), "inbound"),
	})
	renderEndpointChain(t, endpointChainSpec{
		name: toHEPChain(iface), who: "to " + who, inbound: false,
		tiers: ep.Tiers, profiles: ep.Profiles, known: m.knownChain,
		prelude: failsafe(m.failsafeOut(), "outbound"),
	})
	t.Maps[mapFromHEP].Elements[iface] = "goto " + fromHEPChain(iface)
	t.Maps[mapToHEP].Elements[iface] = "goto " + toHEPChain(iface)

	// Untracked (doNotTrack) policy in raw, both directions; preDNAT
	// policy in mangle prerouting, ingress only. Neither has a default
	// deny; an Allow marks the packet, which then skips the later stages'
	// host-endpoint policy (untracked also skips conntrack).
	for _, st := range []struct {
		tiers   []calc.TierInfo
		inbound bool
		chain   string
		mapName string
		what    string
		onAllow string
		safe    []v3.ProtoPort
	}{
		{ep.UntrackedTiers, true, safeName("ufh-", iface), mapFromHEPUntracked, "untracked from ", "notrack ", m.failsafeIn()},
		{ep.UntrackedTiers, false, safeName("uth-", iface), mapToHEPUntracked, "untracked to ", "notrack ", m.failsafeOut()},
		{ep.PreDNATTiers, true, safeName("pfh-", iface), mapFromHEPPreDNAT, "preDNAT from ", "", m.failsafeIn()},
	} {
		if !hasPolicies(st.tiers, st.inbound) {
			continue
		}
		dir := "inbound"
		if !st.inbound {
			dir = "outbound"
		}
		renderEndpointChain(t, endpointChainSpec{
			name: st.chain, who: st.what + who, inbound: st.inbound, tiers: st.tiers, known: m.knownChain,
			noDefaultDeny: true, onAllow: st.onAllow, prelude: failsafe(st.safe, dir),
		})
		t.Maps[st.mapName].Elements[iface] = "goto " + st.chain
	}

	for _, dir := range []struct {
		inbound bool
		chain   string
		mapName string
	}{{true, safeName("ffh-", iface), mapFromHEPFwd}, {false, safeName("fth-", iface), mapToHEPFwd}} {
		if !hasPolicies(ep.ForwardTiers, dir.inbound) {
			continue // forwarded traffic is allowed when no applyOnForward policy applies
		}
		renderEndpointChain(t, endpointChainSpec{
			name: dir.chain, who: "forwarded via " + who, inbound: dir.inbound,
			tiers: ep.ForwardTiers, known: m.knownChain, allowAtEnd: true,
		})
		t.Maps[dir.mapName].Elements[iface] = "goto " + dir.chain
	}
}

// hasPolicies reports whether any tier has policies for the direction.
func hasPolicies(tiers []calc.TierInfo, inbound bool) bool {
	for _, t := range tiers {
		if inbound && len(t.IngressPolicies) > 0 || !inbound && len(t.EgressPolicies) > 0 {
			return true
		}
	}
	return false
}

// failsafe renders the failsafe ports as one set lookup that accepts.
func failsafe(ports []v3.ProtoPort, dir string) []nft.Rule {
	var any, withNet []string
	var out []nft.Rule
	for _, p := range ports {
		proto := 6
		switch strings.ToLower(p.Protocol) {
		case "udp":
			proto = 17
		case "sctp":
			proto = 132
		}
		if p.Net == "" {
			any = append(any, fmt.Sprintf("%d . %d", proto, p.Port))
			continue
		}
		withNet = append(withNet, p.Net)
		kw, addr := "ip", "saddr"
		if familyOf(p.Net) == 6 {
			kw = "ip6"
		}
		if dir == "outbound" {
			addr = "daddr"
		}
		out = append(out, nft.Rule{
			Text:    fmt.Sprintf("%s %s %s meta l4proto %d th dport %d accept", kw, addr, p.Net, proto, p.Port),
			Comment: fmt.Sprintf("failsafe %s %s:%d from/to %s", dir, p.Protocol, p.Port, p.Net),
		})
	}
	if len(any) > 0 {
		out = append([]nft.Rule{{
			Text:    "meta l4proto . th dport { " + strings.Join(any, ", ") + " } accept",
			Comment: "failsafe " + dir + " ports",
		}}, out...)
	}
	return out
}

func (m *PolicyManager) failsafeIn() []v3.ProtoPort {
	if m.cfg.FailsafeInbound != nil {
		return *m.cfg.FailsafeInbound
	}
	return defaultFailsafeIn
}

func (m *PolicyManager) failsafeOut() []v3.ProtoPort {
	if m.cfg.FailsafeOutbound != nil {
		return *m.cfg.FailsafeOutbound
	}
	return defaultFailsafeOut
}
