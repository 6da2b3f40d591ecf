package dataplane

import "github.com/tricolor-net/tricolor/internal/dataplane/nft"

// IPv6 in the base chains. The table is family inet, so every base chain
// sees IPv6 as well as IPv4; two things are IPv6's own.
//
// Neighbour discovery. A pod's IPv6 next hop is the link-local address of
// its host veth, resolved by neighbour solicitation; the host resolves the
// pod's address the same way and the pod answers with an advertisement. A
// workload's egress policy, or DefaultEndpointToHostAction Drop, would drop
// these and cut the pod's IPv6 off whatever its policy allows. As Calico
// (its workload-to-host chain), ICMPv6 types 130-133, 135 and 136 from a
// workload to this host are accepted before egress policy and before
// DefaultEndpointToHostAction. Here egress policy runs in prerouting,
// before the routing decision: the prerouting accept is limited to
// packets for this host (local or multicast destination, `fib daddr
// type`), so the same ICMPv6 types sent through the host to anywhere else
// still meet the sender's egress policy.
//
// ipv6Support false. Calico then programs no IPv6 rules and leaves IPv6
// forwarding off: IPv6 to or from a workload is not policed, so it must
// not flow. Here the table would still carry it (rules that match no
// address match IPv6 too), so IPv6 to and from workload interfaces is
// dropped first thing, established flows included.

// workloadNDTypes are the ICMPv6 types a workload may always send to its
// host: MLD query, report and done (130-132), router solicitation (133),
// neighbour solicitation and advertisement (135, 136). Router
// advertisements (134) and redirects (137) are not among them: a pod is
// no router.
const workloadNDTypes = "{ 130, 131, 132, 133, 135, 136 }"

// addNoIPv6Drop adds, with NoIPv6, the drop of IPv6 from (kw "iifname") or
// to (kw "oifname") workload interfaces.
func (m *PolicyManager) addNoIPv6Drop(c *nft.Chain, kw string) {
	if !m.cfg.NoIPv6 {
		return
	}
	dir := "to"
	if kw == "iifname" {
		dir = "from"
	}
	c.Add("meta nfproto ipv6 "+kw+" "+workloadIfaces+" counter drop",
		"ipv6Support false: IPv6 "+dir+" workloads is not policed, so dropped")
}

// addWorkloadND adds the accept of neighbour discovery from workloads to
// this host (nothing with NoIPv6). In prerouting (forHost false) the rule
// checks that the packet is for this host; in input it is.
func (m *PolicyManager) addWorkloadND(c *nft.Chain, forHost bool) {
	if m.cfg.NoIPv6 {
		return
	}
	rule := "iifname " + workloadIfaces + " icmpv6 type " + workloadNDTypes
	if !forHost {
		rule += " fib daddr type { local, multicast }"
	}
	c.Add(rule+" accept", "IPv6 neighbour discovery and MLD from workloads to this host: before any policy (as Calico)")
}
