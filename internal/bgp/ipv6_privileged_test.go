package bgp

import (
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Dual stack: each node has an IPv4 and an IPv6 BGP address and one block
// per family; the mesh runs one session per family (MP-BGP IPv6 unicast
// on the IPv6 one) and both families land in the kernels.
func TestPrivilegedIPv6_DualStackMeshInstallsBothFamilies(t *testing.T) {
	testutil.RequireRoot(t)
	_, nss, st := meshCluster(t, 2)
	st.IPPools = append(st.IPPools, pool("default-ipv6-ippool", "fd00:10:244::/48", false))
	for i, v6 := range []string{"fd00:198:18::11", "fd00:198:18::12"} {
		// nodad: the address is usable at once instead of after DAD.
		nss[i].IP(t, "addr", "add", v6+"/64", "dev", "eth0", "nodad")
		st.Nodes[i].Spec.BGP.IPv6Address = v6 + "/64"
	}
	st.BlockAffinities = append(st.BlockAffinities,
		affinity("node-a", "fd00:10:244::/122", v3.StateConfirmed),
		affinity("node-b", "fd00:10:244::40/122", v3.StateConfirmed))
	a := startNode(t, nss[0], "node-a", st)
	startNode(t, nss[1], "node-b", st)

	waitRoutes(t, nss[0], "node-a has both families of node-b's blocks", 30*time.Second,
		"blackhole 10.244.0.0/26 proto bird",
		"10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird",
		"blackhole fd00:10:244::/122 dev lo proto bird metric 1024 pref medium",
		"fd00:10:244::40/122 via fd00:198:18::12 dev eth0 proto bird metric 1024 pref medium")
	st2 := waitEstablished(t, a, 2)
	if st2[1].Peer.Name != "Mesh_fd00_198_18__12" {
		t.Errorf("IPv6 peer name = %q, want Mesh_fd00_198_18__12", st2[1].Peer.Name)
	}
}
