package bgp

import (
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedMesh_BorrowedAddressIsRoutedToTheNodeHoldingIt: node-b
// holds 10.244.0.5, allocated from node-a's block (IPAM lends addresses
// when a node has no free block). node-b advertises it as a /32, so node-a
// and node-c route it to node-b even though the /26 around it is node-a's
// (longest prefix wins, also over node-a's own blackhole).
func TestPrivilegedMesh_BorrowedAddressIsRoutedToTheNodeHoldingIt(t *testing.T) {
	testutil.RequireRoot(t)
	_, nss, st := meshCluster(t, 3)
	st.IPAMBlocks = append(st.IPAMBlocks, block("10.244.0.0/26", "node-a", 64, map[int]string{2: "node-a", 5: "node-b"}))
	for i, ns := range nss {
		startNode(t, ns, st.Nodes[i].Name, st)
	}
	borrowed := "10.244.0.5 via 198.18.0.12 dev eth0 proto bird"
	waitRoutes(t, nss[0], "node-a", 30*time.Second, "blackhole 10.244.0.0/26 proto bird", borrowed,
		"10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird", "10.244.2.0/26 via 198.18.0.13 dev eth0 proto bird")
	waitRoutes(t, nss[1], "node-b (holds the address; no route to itself)", 30*time.Second,
		"10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird", "blackhole 10.244.1.0/26 proto bird", "10.244.2.0/26 via 198.18.0.13 dev eth0 proto bird")
	waitRoutes(t, nss[2], "node-c", 30*time.Second, "10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird", borrowed,
		"10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird", "blackhole 10.244.2.0/26 proto bird")
	for _, i := range []int{0, 2} {
		if out := nss[i].IP(t, "route", "get", "10.244.0.5"); !strings.Contains(out, "via 198.18.0.12") {
			t.Errorf("%s: route get 10.244.0.5 = %q, want via node-b (198.18.0.12)", st.Nodes[i].Name, out)
		}
	}
	if out := nss[2].IP(t, "route", "get", "10.244.0.6"); !strings.Contains(out, "via 198.18.0.11") {
		t.Errorf("node-c: route get 10.244.0.6 = %q, want via the block's owner node-a (198.18.0.11)", out)
	}
}
