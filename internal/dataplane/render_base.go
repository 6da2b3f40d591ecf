package dataplane

import (
	"fmt"
	"strings"

	"sigs.k8s.io/knftables"

	"github.com/tricolor-net/tricolor/internal/dataplane/nft"
)

// workloadIfaces matches every workload interface (Calico's "cali" prefix).
const workloadIfaces = `"cali*"`

// renderBase adds the base chains, the dispatch chains and their verdict
// maps, and natOutgoing. Packet path for workload traffic:
//
//	prerouting ─► ct established,related: accept (fast path)
//	           ─► ct invalid from cali*: drop
//	           └► iifname cali* jump from-wl-dispatch ─► iifname vmap @from-wl ─goto─► fw-<iface>
//	                                                  └► drop (unknown cali*: fail closed)
//	forward    ─► ct established,related: accept
//	           └► oifname cali* jump to-wl-dispatch   ─► oifname vmap @to-wl   ─goto─► tw-<iface>
//	                                                  └► drop
//	input      ─► iifname cali*: DefaultEndpointToHostAction
//
// A workload's egress policy runs once, in prerouting, for traffic it
// sends to another workload, to the host or beyond: Calico reaches the
// same chain from both FORWARD and INPUT, which here would make the kernel
// validate every egress chain twice on each commit (the validation walk is
// what a policy change waits for; see docs/felix.md). Prerouting filter
// runs after conntrack and kube-proxy's DNAT (priority filter > dstnat), so
// egress policy sees the same packet it would in forward or input.
// fw-/tw- chains return when policy allows (so forwarded traffic is checked
// by both endpoints) and drop otherwise. Traffic the host itself sends to a
// local workload is not policed by the workload's ingress policy, as in
// Calico (kubelet probes must reach pods under default deny): output
// accepts it for known workload interfaces (@host-to-wl) and drops it for
// unknown cali* ones.
func (m *PolicyManager) renderBase(t *nft.Table) {
	filter := func(hook knftables.BaseChainHook) *nft.BaseChain {
		return &nft.BaseChain{Type: knftables.FilterType, Hook: hook, Priority: knftables.FilterPriority}
	}
	fast := func(c *nft.Chain) {
		c.Add("ct state established,related accept", "conntrack fast path: established and related flows")
	}

	pre := t.AddChain(chainPrerouting, filter(knftables.PreroutingHook))
	m.addNoIPv6Drop(pre, "iifname")
	fast(pre)
	m.addWorkloadND(pre, false)
	pre.Add("iifname "+workloadIfaces+" ct state invalid counter drop", "invalid conntrack state from a workload")
	pre.Add("iifname "+workloadIfaces+" jump "+chainFromWLDisp, "from workloads: their egress policy (forwarded or to this host)")

	fwd := t.AddChain(chainForward, filter(knftables.ForwardHook))
	m.addNoIPv6Drop(fwd, "oifname")
	fast(fwd)
	fwd.Add("oifname "+workloadIfaces+" ct state invalid counter drop", "invalid conntrack state to a workload")
	fwd.Add("oifname "+workloadIfaces+" jump "+chainToWLDisp, "to workloads: their ingress policy")
	fwd.Add("jump "+chainFwdFromHEP, "forwarded from host endpoints: applyOnForward ingress policy")
	fwd.Add("jump "+chainFwdToHEP, "forwarded to host endpoints: applyOnForward egress policy")

	in := t.AddChain(chainInput, filter(knftables.InputHook))
	fast(in)
	m.addWorkloadND(in, true)
	// Workload egress policy already ran in prerouting.
	switch strings.ToLower(m.cfg.DefaultEndpointToHostAction) {
	case "accept":
		in.Add("iifname "+workloadIfaces+" accept", "DefaultEndpointToHostAction Accept")
	case "return":
		// Leave the packet to the host's own rules.
	default:
		in.Add("iifname "+workloadIfaces+" counter drop", "DefaultEndpointToHostAction Drop")
	}
	in.Add(fmt.Sprintf("meta mark & 0x%x != 0 accept", markAccept), "allowed by untracked or preDNAT host endpoint policy")
	in.Add("jump "+chainFromHEPDisp, "host endpoints: ingress policy")

	out := t.AddChain(chainOutput, filter(knftables.OutputHook))
	m.addNoIPv6Drop(out, "oifname")
	fast(out)
	out.Add("oifname "+workloadIfaces+" ct state invalid counter drop", "invalid conntrack state to a workload")
	out.Add("oifname "+workloadIfaces+" jump "+chainHostToWLDisp, "from this host to workloads: not policed (as Calico); unknown interfaces dropped")
	out.Add(fmt.Sprintf("meta mark & 0x%x != 0 accept", markAccept), "allowed by untracked host endpoint policy")
	out.Add("jump "+chainToHEPDisp, "host endpoints: egress policy")

	// Host-endpoint doNotTrack (raw, before conntrack) and preDNAT
	// (mangle prerouting, before kube-proxy's DNAT) policy. Our mark bits
	// are cleared first: from here on they mean "allowed by us".
	clearMarks := fmt.Sprintf("meta mark set meta mark & 0x%x", ^(markAccept | markPass))
	rawPre := t.AddChain(chainRawPre, &nft.BaseChain{Type: knftables.FilterType, Hook: knftables.PreroutingHook, Priority: knftables.RawPriority})
	rawPre.Add(clearMarks, "clear accept/pass marks on every incoming packet")
	rawPre.Add("jump "+chainUntrackedIn, "host endpoints: untracked (doNotTrack) ingress policy")
	rawOut := t.AddChain(chainRawOut, &nft.BaseChain{Type: knftables.FilterType, Hook: knftables.OutputHook, Priority: knftables.RawPriority})
	rawOut.Add(clearMarks, "clear accept/pass marks on every local packet")
	rawOut.Add("jump "+chainUntrackedOut, "host endpoints: untracked (doNotTrack) egress policy")
	mangle := t.AddChain(chainManglePre, &nft.BaseChain{Type: knftables.FilterType, Hook: knftables.PreroutingHook, Priority: knftables.ManglePriority})
	mangle.Add(fmt.Sprintf("meta mark & 0x%x != 0 accept", markAccept), "allowed by untracked policy: skip preDNAT policy")
	mangle.Add("jump "+chainPreDNATIn, "host endpoints: preDNAT ingress policy")

	for _, d := range []struct{ chain, m, kw, what string }{
		{chainFromWLDisp, mapFromWL, "iifname", "workload"},
		{chainToWLDisp, mapToWL, "oifname", "workload"},
		{chainHostToWLDisp, mapHostToWL, "oifname", "host to workload"},
		{chainFromHEPDisp, mapFromHEP, "iifname", "host endpoint"},
		{chainToHEPDisp, mapToHEP, "oifname", "host endpoint"},
		{chainFwdFromHEP, mapFromHEPFwd, "iifname", "forwarded from host endpoint"},
		{chainFwdToHEP, mapToHEPFwd, "oifname", "forwarded to host endpoint"},
		{chainUntrackedIn, mapFromHEPUntracked, "iifname", "untracked from host endpoint"},
		{chainUntrackedOut, mapToHEPUntracked, "oifname", "untracked to host endpoint"},
		{chainPreDNATIn, mapFromHEPPreDNAT, "iifname", "preDNAT from host endpoint"},
	} {
		mapComment, ruleComment := d.what+" interface to endpoint chain", d.what+" interface to its endpoint chain"
		if d.m == mapHostToWL {
			mapComment = "known workload interface: accept the host's traffic to it"
			ruleComment = mapComment
		}
		if t.Maps[d.m] == nil { // kept between incremental renders: fragments own the elements
			t.Maps[d.m] = &nft.Map{Name: d.m, Type: "ifname : verdict", Comment: mapComment,
				Elements: map[string]string{}, QuoteKeys: true}
		}
		// One dispatch chain per map: the vmap's goto returns to the
		// caller of the dispatch chain, skipping anything after it.
		c := t.AddChain(d.chain, nil)
		c.Add(fmt.Sprintf("%s vmap @%s", d.kw, d.m), ruleComment)
		if strings.HasSuffix(d.what, "workload") {
			c.Add("counter drop", "unknown workload interface: fail closed")
		}
	}
	m.renderWildcardDispatch(t)
}

// renderWildcardDispatch ends each host-endpoint dispatch chain with a
// goto to the wildcard host endpoint's chain for that stage, so every
// interface no named or expectedIPs endpoint covers gets its policy
// (Calico's all-interfaces host endpoint). Workload interfaces are
// excluded: traffic to or from a local workload is not the wildcard's,
// unless it is forwarded through another host interface.
func (m *PolicyManager) renderWildcardDispatch(t *nft.Table) {
	ep := m.hosts[m.wildcardHost]
	if ep == nil {
		return
	}
	dispatch := map[string]struct{ chain, kw string }{
		mapFromHEP: {chainFromHEPDisp, "iifname"}, mapToHEP: {chainToHEPDisp, "oifname"},
		mapFromHEPFwd: {chainFwdFromHEP, "iifname"}, mapToHEPFwd: {chainFwdToHEP, "oifname"},
		mapFromHEPPreDNAT: {chainPreDNATIn, "iifname"},
	}
	for _, st := range m.hostStages(m.wildcardHost, wildcardIface, ep) {
		d := dispatch[st.mapName]
		t.Chains[d.chain].Add(fmt.Sprintf("%s != %s goto %s", d.kw, workloadIfaces, st.spec.name),
			"any other host interface: wildcard host endpoint "+m.wildcardHost)
	}
}

// renderNAT adds natOutgoing: traffic from a natOutgoing pool to anywhere
// outside every pool is masqueraded.
func (m *PolicyManager) renderNAT(t *nft.Table) {
	sets := map[string]*nft.Set{}
	for _, s := range []struct {
		name, typ string
		fam       int
	}{{setAllPools4, "ipv4_addr", 4}, {setAllPools6, "ipv6_addr", 6}, {setMasqPools4, "ipv4_addr", 4}, {setMasqPools6, "ipv6_addr", 6}} {
		if s.fam == 6 && m.cfg.NoIPv6 {
			continue
		}
		sets[s.name] = &nft.Set{Name: s.name, Type: s.typ, Interval: true, Elements: map[string]struct{}{}}
		t.Sets[s.name] = sets[s.name]
	}
	var all, masq []string
	for _, p := range m.pools {
		all = append(all, p.CIDR)
		if p.NATOutgoing && !p.Disabled {
			masq = append(masq, p.CIDR)
		}
	}
	for _, fam := range m.families() {
		allSet, masqSet := sets[setAllPools4], sets[setMasqPools4]
		if fam == 6 {
			allSet, masqSet = sets[setAllPools6], sets[setMasqPools6]
		}
		for _, n := range netsOfFamily(all, fam) {
			allSet.Elements[nft.ElementKey(n)] = struct{}{}
		}
		for _, n := range netsOfFamily(masq, fam) {
			masqSet.Elements[nft.ElementKey(n)] = struct{}{}
		}
	}
	c := t.AddChain(chainNATPost, &nft.BaseChain{Type: knftables.NATType, Hook: knftables.PostroutingHook, Priority: knftables.SNATPriority})
	c.Add("ip saddr @"+setMasqPools4+" ip daddr != @"+setAllPools4+" counter masquerade", "natOutgoing: IPv4 pool to outside the pools")
	if !m.cfg.NoIPv6 {
		c.Add("ip6 saddr @"+setMasqPools6+" ip6 daddr != @"+setAllPools6+" counter masquerade", "natOutgoing: IPv6 pool to outside the pools")
	}
}
