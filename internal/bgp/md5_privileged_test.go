package bgp

import (
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Two nodes peer explicitly with MD5 passwords from a secret: mismatched
// passwords keep the session down with a status that says why; fixing the
// password brings it up and the blocks flow.
func TestPrivilegedMD5_MismatchKeepsSessionDownWithClearStatus(t *testing.T) {
	testutil.RequireRoot(t)
	off := false
	_, nss, st := meshCluster(t, 2)
	st.BGPConfigurations = []v3.BGPConfiguration{bgpConfig("default", v3.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off})}
	pw := &v3.BGPPassword{SecretKeyRef: &v3.SecretKeySelector{Name: "bgp-secrets", Key: "rack1"}}
	st.BGPPeers = []v3.BGPPeer{
		bgpPeer("a-to-b", v3.BGPPeerSpec{Node: "node-a", PeerIP: "198.18.0.12", ASNumber: 64512, Password: pw}),
		bgpPeer("b-to-a", v3.BGPPeerSpec{Node: "node-b", PeerIP: "198.18.0.11", ASNumber: 64512, Password: pw}),
	}
	a := startNode(t, nss[0], "node-a", st, map[string]string{"bgp-secrets/rack1": "correct horse"})
	b := startNode(t, nss[1], "node-b", st, map[string]string{"bgp-secrets/rack1": "battery staple"})

	// Wait long enough for several connection attempts (retry is 1s).
	time.Sleep(5 * time.Second)
	for _, n := range []*nodeProc{a, b} {
		s := n.status()
		if len(s) != 1 {
			t.Fatalf("%s status = %+v, want one peer", n.name, s)
		}
		if s[0].Established() {
			t.Fatalf("%s: session established despite mismatched MD5 passwords", n.name)
		}
		if !strings.Contains(s[0].Info, "MD5 password") {
			t.Errorf("%s info = %q, want it to point at the MD5 password", n.name, s[0].Info)
		}
		var tbl strings.Builder
		_ = WriteStatusTable(&tbl, s)
		t.Logf("%s with mismatched password:\n%s", n.name, tbl.String())
	}
	if got := birdRoutes(t, nss[0]); len(got) != 1 {
		t.Errorf("node-a learned routes without a session: %q", got)
	}

	// Fix node-b's password: the session comes up and the blocks flow.
	b.writeConfig(t, st, map[string]string{"bgp-secrets/rack1": "correct horse"})
	waitEstablished(t, a, 1)
	waitRoutes(t, nss[0], "node-a after the password fix", 15*time.Second,
		"blackhole 10.244.0.0/26 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird")
	if s := a.status(); s[0].Peer.Type != PeerTypeNode || s[0].Peer.Name != "Node_198_18_0_12" {
		t.Errorf("peer = %s (%s), want Node_198_18_0_12 (node specific)", s[0].Peer.Name, s[0].Peer.Type)
	}
}
