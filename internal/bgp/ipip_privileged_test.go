package bgp

import (
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// ipipMesh is a 2-node mesh whose pool has the given ipipMode.
func ipipMesh(t *testing.T, mode v3.IPIPMode) ([]*testutil.Netns, *State) {
	_, nss, st := meshCluster(t, 2)
	st.IPPools[0].Spec.IPIPMode = mode
	return nss, st
}

// TestPrivilegedMesh_IPIPPoolWithoutTunl0InstallsPlainRoutes: on a kernel
// without tunl0 (no ipip module, or Felix has not created it yet) the
// blocks of an IPIP pool still get routes, without the tunnel.
func TestPrivilegedMesh_IPIPPoolWithoutTunl0InstallsPlainRoutes(t *testing.T) {
	testutil.RequireRoot(t)
	nss, st := ipipMesh(t, v3.IPIPModeAlways)
	for _, ns := range nss {
		if strings.Contains(ns.IP(t, "-o", "link", "show"), " tunl0") {
			t.Skip("this kernel creates tunl0 in every namespace (ipip module loaded); covered by the tunl0 test")
		}
	}
	startNode(t, nss[0], "node-a", st)
	startNode(t, nss[1], "node-b", st)
	waitRoutes(t, nss[0], "node-a", 30*time.Second, "blackhole 10.244.0.0/26 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird")
}

// TestPrivilegedMesh_IPIPPoolRoutesGoOverTunl0: with tunl0 present, the
// blocks of an Always pool are routed `via <node> dev tunl0 onlink`, as
// Calico's BIRD does; switching the pool to CrossSubnet (both nodes share
// a subnet) moves them off the tunnel live, and back. Skips on kernels
// without the ipip module.
func TestPrivilegedMesh_IPIPPoolRoutesGoOverTunl0(t *testing.T) {
	testutil.RequireRoot(t)
	nss, st := ipipMesh(t, v3.IPIPModeAlways)
	for _, ns := range nss {
		if out, err := ns.Command("ip", "link", "add", "tunl0", "type", "ipip").CombinedOutput(); err != nil &&
			!strings.Contains(ns.IP(t, "-o", "link", "show"), " tunl0") {
			t.Skipf("kernel has no ipip module: ip link add tunl0 type ipip: %v: %s", err, strings.TrimSpace(string(out)))
		}
		ns.IP(t, "link", "set", "tunl0", "up")
	}
	a := startNode(t, nss[0], "node-a", st)
	b := startNode(t, nss[1], "node-b", st)
	blackholeA := "blackhole 10.244.0.0/26 proto bird"
	tunnel := "10.244.1.0/26 via 198.18.0.12 dev tunl0 proto bird onlink"
	plain := "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird"
	waitRoutes(t, nss[0], "node-a, Always", 30*time.Second, blackholeA, tunnel)

	st.IPPools[0].Spec.IPIPMode = v3.IPIPModeCrossSubnet
	a.writeState(t, st)
	b.writeState(t, st)
	waitRoutes(t, nss[0], "node-a, CrossSubnet on one subnet", 10*time.Second, blackholeA, plain)

	st.IPPools[0].Spec.IPIPMode = v3.IPIPModeAlways
	a.writeState(t, st)
	b.writeState(t, st)
	waitRoutes(t, nss[0], "node-a, Always again", 10*time.Second, blackholeA, tunnel)
}
