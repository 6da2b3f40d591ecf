package dataplane

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
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

// wildcardIface is the interfaceName of a host endpoint that covers every
// host interface.
const wildcardIface = "*"

// hostIfaceLabel names the chains of a host endpoint on iface. The
// wildcard's label contains a '/', which no Linux interface name can, so
// it never collides with a real interface's chains.
func hostIfaceLabel(iface string) string {
	if iface == wildcardIface {
		return "/all-interfaces"
	}
	return iface
}

// hostStage is one place a host endpoint's policy applies: the verdict map
// (and so the dispatch chain) that sends its interface's packets to chain.
type hostStage struct {
	mapName string
	spec    endpointChainSpec
}

// hostStages lists the chains a host endpoint gets on iface:
//
//	input  iifname vmap @from-hep → fh-<iface>: failsafe in, ingress tiers, profiles, drop
//	output oifname vmap @to-hep   → th-<iface>: failsafe out, egress tiers, profiles, drop
//	forward (applyOnForward tiers only; no such policy in a direction: allowed)
//	       iifname vmap @from-hep-fwd → ffh-<iface>, oifname vmap @to-hep-fwd → fth-<iface>
//	raw    doNotTrack policy (ufh-/uth-), not for the wildcard (as Calico)
//	mangle preDNAT ingress policy (pfh-)
//
// Untracked and preDNAT policy have no default deny: an Allow marks the
// packet, which then skips the later stages' host-endpoint policy
// (untracked also skips conntrack).
func (m *PolicyManager) hostStages(name, iface string, ep *calc.HostEndpoint) []hostStage {
	who := "hep " + name
	label := hostIfaceLabel(iface)
	stages := []hostStage{
		{mapFromHEP, endpointChainSpec{
			name: fromHEPChain(label), who: "from " + who, inbound: true,
			tiers: ep.Tiers, profiles: ep.Profiles, known: m.knownChain,
			prelude: failsafe(m.failsafeIn(), "inbound"),
		}},
		{mapToHEP, endpointChainSpec{
			name: toHEPChain(label), who: "to " + who, inbound: false,
			tiers: ep.Tiers, profiles: ep.Profiles, known: m.knownChain,
			prelude: failsafe(m.failsafeOut(), "outbound"),
		}},
	}
	for _, st := range []struct {
		tiers   []calc.TierInfo
		inbound bool
		chain   string
		mapName string
		what    string
		onAllow string
		safe    []v3.ProtoPort
	}{
		{ep.UntrackedTiers, true, safeName("ufh-", label), mapFromHEPUntracked, "untracked from ", "notrack ", m.failsafeIn()},
		{ep.UntrackedTiers, false, safeName("uth-", label), mapToHEPUntracked, "untracked to ", "notrack ", m.failsafeOut()},
		{ep.PreDNATTiers, true, safeName("pfh-", label), mapFromHEPPreDNAT, "preDNAT from ", "", m.failsafeIn()},
	} {
		if !hasPolicies(st.tiers, st.inbound) {
			continue
		}
		if iface == wildcardIface && st.onAllow != "" {
			continue // Calico does not support untracked policy on a wildcard host endpoint
		}
		dir := "inbound"
		if !st.inbound {
			dir = "outbound"
		}
		stages = append(stages, hostStage{st.mapName, endpointChainSpec{
			name: st.chain, who: st.what + who, inbound: st.inbound, tiers: st.tiers, known: m.knownChain,
			noDefaultDeny: true, onAllow: st.onAllow, prelude: failsafe(st.safe, dir),
		}})
	}
	for _, dir := range []struct {
		inbound bool
		chain   string
		mapName string
	}{{true, safeName("ffh-", label), mapFromHEPFwd}, {false, safeName("fth-", label), mapToHEPFwd}} {
		if !hasPolicies(ep.ForwardTiers, dir.inbound) {
			continue // forwarded traffic is allowed when no applyOnForward policy applies
		}
		stages = append(stages, hostStage{dir.mapName, endpointChainSpec{
			name: dir.chain, who: "forwarded via " + who, inbound: dir.inbound,
			tiers: ep.ForwardTiers, known: m.knownChain, allowAtEnd: true,
		}})
	}
	return stages
}

// renderHost adds a host endpoint's chains on each interface it covers
// (resolveHosts) and, for named interfaces, their verdict-map entries. The
// wildcard's chains are reached from the dispatch chains' fallback rule
// instead (renderBase).
func (m *PolicyManager) renderHost(t *nft.Table, name string, ifaces []string, ep *calc.HostEndpoint) {
	for _, iface := range ifaces {
		for _, st := range m.hostStages(name, iface, ep) {
			renderEndpointChain(t, st.spec)
			if iface != wildcardIface {
				t.Maps[st.mapName].Elements[iface] = "goto " + st.spec.name
			}
		}
	}
}

// resolveHosts maps each host endpoint to the interfaces it covers, as
// Felix does: a named interface belongs to the lowest-named endpoint naming
// it; an endpoint with no interfaceName covers every interface holding one
// of its expectedIPs (SetHostInterfaces) that no named endpoint claims
// (the lowest name wins among several); "*" covers every other host
// interface, and only the lowest-named wildcard endpoint applies.
// Interface names nft cannot quote are skipped.
func (m *PolicyManager) resolveHosts() (ifacesOf map[string][]string, wildcard string) {
	ifacesOf = map[string][]string{}
	claimed := map[string]bool{}
	names := sortedKeys(m.hosts)
	for _, name := range names {
		iface := m.hosts[name].InterfaceName
		switch {
		case iface == wildcardIface:
			if wildcard == "" {
				wildcard = name
				ifacesOf[name] = []string{wildcardIface}
			}
		case iface != "" && !claimed[iface] && !strings.ContainsAny(iface, "\" *"):
			claimed[iface] = true
			ifacesOf[name] = []string{iface}
		}
	}
	for _, name := range names {
		ep := m.hosts[name]
		if ep.InterfaceName != "" {
			continue
		}
		want := map[netip.Addr]bool{}
		for _, s := range append(append([]string(nil), ep.ExpectedIPv4s...), ep.ExpectedIPv6s...) {
			if a, err := netip.ParseAddr(s); err == nil {
				want[a.Unmap()] = true
			}
		}
		for _, iface := range sortedKeys(m.hostIfaces) {
			if claimed[iface] || strings.ContainsAny(iface, "\" *") {
				continue
			}
			for _, a := range m.hostIfaces[iface] {
				if want[a.Unmap()] {
					claimed[iface] = true
					ifacesOf[name] = append(ifacesOf[name], iface)
					break
				}
			}
		}
	}
	return ifacesOf, wildcard
}

// NeedsHostInterfaces reports whether some host endpoint is given only by
// expectedIPs, i.e. whether SetHostInterfaces matters (listing every
// interface costs milliseconds on a node with a thousand pods).
func (m *PolicyManager) NeedsHostInterfaces() bool {
	for _, ep := range m.hosts {
		if ep.InterfaceName == "" {
			return true
		}
	}
	return false
}

// SetHostInterfaces records the host's interfaces and their addresses,
// which resolve host endpoints given only by expectedIPs. The next Apply
// re-renders when they changed.
func (m *PolicyManager) SetHostInterfaces(addrs map[string][]netip.Addr) {
	if maps.EqualFunc(addrs, m.hostIfaces, slices.Equal) {
		return
	}
	m.hostIfaces = addrs
	m.dirty = true
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
