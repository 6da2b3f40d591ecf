package dataplane

import (
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// TestPrivilegedNAT_OutgoingMasqueradesPoolTrafficLeavingThePools asks the
// outside (beyond the node's eth1) which source address a pod's connection
// arrives from: the node's with natOutgoing on the pod's pool, the pod's own
// without; switching back and forth follows the pool.
func TestPrivilegedNAT_OutgoingMasqueradesPoolTrafficLeavingThePools(t *testing.T) {
	l := newLab(t)
	pool := func(nat bool) *v3.IPPool {
		p := natPool()
		p.Spec.NATOutgoing = nat
		return p
	}
	for _, tc := range []struct {
		nat  bool
		want string
	}{{true, hostIP}, {false, podSpecs[pClient].ip}, {true, hostIP}} {
		l.setObjects(t, pool(tc.nat))
		if got := l.seenByOutside(t, pClient); got != tc.want {
			t.Errorf("natOutgoing=%v: outside saw the connection from %s, want %s\n%s", tc.nat, got, tc.want, l.listTable(t))
		}
	}
	// Pod-to-pod traffic stays inside the pools: never masqueraded, so
	// source-based policy still sees pod addresses.
	l.setObjects(t, pool(true), netpol("b", "db-from-client", "role == 'db'", ingress, []v3.Rule{{
		Action: v3.Allow, Source: v3.EntityRule{Nets: []string{podSpecs[pClient].ip + "/32"}},
	}}, nil))
	l.assertMatrix(t, restrict(to(pDB), from(pClient)))
}
