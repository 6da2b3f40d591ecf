package dataplane

import "slices"

// Expectations of the traffic matrix, built from flow predicates so each
// case states only what its policy changes:
//
//	deny(to(pDB))                                   nothing reaches db
//	restrict(to(pDB), from(pWebA, pWebB), on(tcp80)) db takes only tcp/80 from the webs
//
// Every expectation starts from baseline (see there); traffic from or to
// the unknown interface is always expected dropped (assertMatrix).

var (
	tcp80    = probe{proto: "tcp", port: 80}
	tcp8080  = probe{proto: "tcp", port: 8080}
	udp53    = probe{proto: "udp", port: 53}
	icmpEcho = probe{proto: "icmp", port: 0}
)

// knownPods are the participants that are workload endpoints.
var knownPods = []int{pClient, pWebA, pDB, pWebB, pMonitor, pAPI}

// from matches flows whose source is one of the participants.
func from(ps ...int) expectFn {
	return func(s, _ int, _ probe) bool { return slices.Contains(ps, s) }
}

// to matches flows whose destination is one of the participants.
func to(ps ...int) expectFn {
	return func(_, d int, _ probe) bool { return slices.Contains(ps, d) }
}

// on matches flows using one of the probes, over either IP family
// (combine with overIPv6 / overIPv4 to pick one).
func on(prs ...probe) expectFn {
	return func(_, _ int, pr probe) bool {
		return slices.ContainsFunc(prs, func(x probe) bool { return x.proto == pr.proto && x.port == pr.port })
	}
}

// overIPv6 matches flows sent over IPv6; overIPv4 those over IPv4.
var (
	overIPv6 expectFn = func(_, _ int, pr probe) bool { return pr.v6 }
	overIPv4          = not(overIPv6)
)

// proto matches flows of the protocol (tcp, udp, icmp).
func proto(name string) expectFn {
	return func(_, _ int, pr probe) bool { return pr.proto == name }
}

// allOf is the conjunction of predicates.
func allOf(fs ...expectFn) expectFn {
	return func(s, d int, pr probe) bool {
		for _, f := range fs {
			if !f(s, d, pr) {
				return false
			}
		}
		return true
	}
}

// anyOf is the disjunction of predicates.
func anyOf(fs ...expectFn) expectFn {
	return func(s, d int, pr probe) bool {
		for _, f := range fs {
			if f(s, d, pr) {
				return true
			}
		}
		return false
	}
}

func not(f expectFn) expectFn {
	return func(s, d int, pr probe) bool { return !f(s, d, pr) }
}

// baseline is the reachability without any policy: the namespace profiles
// allow everything between pods, the host and the outside, except that a
// workload's traffic to its own host is dropped after its egress policy
// (DefaultEndpointToHostAction Drop, Felix's default).
func baseline(s, d int, pr probe) bool {
	return !(slices.Contains(knownPods, s) && d == pHost)
}

// endpointToHostAllowed is baseline with DefaultEndpointToHostAction
// Accept or Return (nothing else on the node filters it).
func endpointToHostAllowed(int, int, probe) bool { return true }

// hostToPod matches the host's own traffic to its pods, which workload
// policy never sees: Felix does not police host → local workload traffic
// (kubelet probes must reach pods under default deny).
var hostToPod = allOf(from(pHost), to(knownPods...))

// deny is baseline minus the flows f matches (the host still reaches its
// pods).
func deny(f expectFn) expectFn {
	return allOf(baseline, anyOf(hostToPod, not(f)))
}

// restrict is baseline where the flows scope matches get through only if
// they match all of allowed (the host still reaches its pods).
func restrict(scope expectFn, allowed ...expectFn) expectFn {
	return allOf(baseline, anyOf(hostToPod, not(scope), allOf(allowed...)))
}
