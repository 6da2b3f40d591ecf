package bgp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func put(t *testing.T, be datastore.Backend, kind, name string, obj any) {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Create(context.Background(), &datastore.KVPair{Key: datastore.Key{Kind: kind, Name: name}, Value: b}); err != nil {
		t.Fatal(err)
	}
}

// End to end without root: datastore → syncer → StateCache → Agent →
// GoBGP speaker listening on loopback only.
func TestAgent_RunFromCacheFollowsDatastore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	be := memory.New()
	port := testutil.FreePort(t)
	cfg := bgpConfig("default", v3.BGPConfigurationSpec{ListenPort: uint16(port)})
	put(t, be, v3.KindBGPConfiguration, "default", &cfg)
	na, nb := node("node-a", "127.0.0.1/8", nil), node("node-b", "127.0.0.2/8", nil)
	put(t, be, v3.KindNode, "node-a", &na)
	put(t, be, v3.KindNode, "node-b", &nb)
	// A corrupt record of a watched kind is skipped, not fatal.
	if _, err := be.Create(ctx, &datastore.KVPair{Key: datastore.Key{Kind: v3.KindBGPPeer, Name: "junk"}, Value: []byte("{not json")}); err != nil {
		t.Fatal(err)
	}

	cache := NewStateCache(testLogger())
	syncer := datastore.NewSyncer(be, SyncedKinds(), cache)
	syncer.Log = testLogger()
	go syncer.Run(ctx)
	agent := NewAgent(AgentConfig{NodeName: "node-a", Logger: testLogger(), Speaker: SpeakerConfig{ListenAddresses: []string{"127.0.0.1"}}})
	t.Cleanup(func() { _ = agent.Stop(context.Background()) })
	go agent.RunFromCache(ctx, cache)

	peers := func() []string {
		st, _ := agent.Status(ctx)
		var out []string
		for _, s := range st {
			out = append(out, s.Peer.Name)
		}
		return out
	}
	waitFor(t, "agent to peer with node-b from datastore state", 10*time.Second, func() bool {
		p := peers()
		return len(p) == 1 && p[0] == fmt.Sprintf("Mesh_127_0_0_2_port_%d", port)
	})
	// Deleting node-b removes the session.
	if _, err := be.Delete(ctx, datastore.Key{Kind: v3.KindNode, Name: "node-b"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "session to node-b removed after the Node was deleted", 10*time.Second, func() bool { return len(peers()) == 0 })
	st, inSync := cache.Snapshot()
	if !inSync || len(st.Nodes) != 1 || len(st.BGPConfigurations) != 1 || len(st.BGPPeers) != 0 {
		t.Errorf("snapshot in-sync=%v nodes=%d configs=%d peers=%d", inSync, len(st.Nodes), len(st.BGPConfigurations), len(st.BGPPeers))
	}
}
