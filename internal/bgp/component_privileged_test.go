package bgp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// componentHelperEnv names the config file of a Component subprocess.
const componentHelperEnv = "TRICOLOR_BGP_COMPONENT_HELPER"

// componentHelperConfig is what the parent hands a Component subprocess:
// the node, the datastore contents (seeded into the node's own memory
// backend) and the run directory for the status socket and health file.
type componentHelperConfig struct {
	Node   string
	State  State
	RunDir string
	// NodeStatus is created in the node's datastore; the helper copies its
	// stored form to RunDir/nodestatus.json every 200ms for the parent.
	NodeStatus *v3.CalicoNodeStatus
}

// fileHealth writes each report to a JSON file the parent test reads.
type fileHealth struct{ path string }

type healthReport struct {
	Live, Ready bool
	Detail      string
}

func (h fileHealth) Report(live, ready bool, detail string) {
	b, _ := json.Marshal(healthReport{live, ready, detail})
	if os.WriteFile(h.path+".tmp", b, 0o644) == nil {
		_ = os.Rename(h.path+".tmp", h.path)
	}
}

// TestHelperBGPComponent is not a test: it is the calico-node of
// TestPrivilegedComponent…, and skips when run normally.
func TestHelperBGPComponent(t *testing.T) {
	path := os.Getenv(componentHelperEnv)
	if path == "" {
		t.Skip("helper process for TestPrivilegedComponent…; runs only when it re-executes the test binary")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg componentHelperConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	be := memory.New()
	seedBackend(t, be, &cfg.State)
	if cfg.NodeStatus != nil {
		go dumpNodeStatus(ctx, t, be, cfg.NodeStatus, filepath.Join(cfg.RunDir, "nodestatus.json"))
	}
	c := NewComponent(ComponentConfig{
		NodeName:       cfg.Node,
		Backend:        be,
		Health:         fileHealth{filepath.Join(cfg.RunDir, "health.json")},
		SocketPath:     filepath.Join(cfg.RunDir, StatusSocketName),
		Speaker:        SpeakerConfig{ConnectRetry: time.Second, HoldTime: 9 * time.Second},
		HealthInterval: 200 * time.Millisecond,
		Logger:         testLogger(),
	})
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// dumpNodeStatus creates ns in be and writes its stored form to path
// every 200ms until ctx ends: the parent's window into the node's datastore.
func dumpNodeStatus(ctx context.Context, t *testing.T, be datastore.Backend, ns *v3.CalicoNodeStatus, path string) {
	c := client.New(be)
	if _, err := c.Create(ctx, ns); err != nil {
		t.Errorf("create %s: %v", ns.Name, err)
		return
	}
	for ctx.Err() == nil {
		if cur, err := client.Get[*v3.CalicoNodeStatus](ctx, c, "", ns.Name); err == nil {
			b, _ := json.Marshal(cur)
			if os.WriteFile(path+".tmp", b, 0o644) == nil {
				_ = os.Rename(path+".tmp", path)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// seedBackend writes every resource of st into be, as calicoctl would.
func seedBackend(t testing.TB, be datastore.Backend, st *State) {
	put := func(kind, name string, obj any) {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := be.Create(context.Background(), &datastore.KVPair{Key: datastore.Key{Kind: kind, Name: name}, Value: b}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range st.Nodes {
		put(v3.KindNode, o.Name, o)
	}
	for _, o := range st.BGPConfigurations {
		put(v3.KindBGPConfiguration, o.Name, o)
	}
	for _, o := range st.BGPPeers {
		put(v3.KindBGPPeer, o.Name, o)
	}
	for _, o := range st.IPPools {
		put(v3.KindIPPool, o.Name, o)
	}
	for _, o := range st.BlockAffinities {
		put(v3.KindBlockAffinity, o.Name, o)
	}
}

func TestPrivilegedComponent_TwoNodesMeshFromTheDatastoreAndReportStatus(t *testing.T) {
	testutil.RequireRoot(t)
	_, nss, st := meshCluster(t, 2)
	var dirs []string
	for i, ns := range nss {
		dir := t.TempDir()
		dirs = append(dirs, dir)
		b, err := json.Marshal(componentHelperConfig{Node: st.Nodes[i].Name, State: *st, RunDir: dir,
			NodeStatus: allClassesNodeStatus("status-"+st.Nodes[i].Name, st.Nodes[i].Name)})
		if err != nil {
			t.Fatal(err)
		}
		cfgPath := filepath.Join(dir, "config.json")
		if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
		startComponent(t, ns, cfgPath, filepath.Join(dir, "log"))
	}

	start := time.Now()
	waitRoutes(t, nss[0], "node-a", 30*time.Second, "blackhole 10.244.0.0/26 proto bird", "10.244.1.0/26 via 198.18.0.12 dev eth0 proto bird")
	waitRoutes(t, nss[1], "node-b", 30*time.Second, "blackhole 10.244.1.0/26 proto bird", "10.244.0.0/26 via 198.18.0.11 dev eth0 proto bird")
	t.Logf("both nodes installed each other's block %v after start", time.Since(start).Round(time.Millisecond))

	for i, dir := range dirs {
		peer := fmt.Sprintf("198.18.0.%d", 12-i)
		own, theirs := fmt.Sprintf("10.244.%d.0/26", i), fmt.Sprintf("10.244.%d.0/26", 1-i)
		// -bird-ready: ready once the one mesh peer is Established.
		var h healthReport
		deadline := time.Now().Add(15 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(dir, "health.json"))
			if json.Unmarshal(b, &h) == nil && h.Live && h.Ready {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d never reported ready: %+v", i, h)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// calicoctl node status's data, over the socket.
		ps, err := QueryStatus(context.Background(), filepath.Join(dir, StatusSocketName))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if err := WriteStatusTable(&out, ps); err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].Peer.Address.String() != peer || !ps[0].Established() || ps[0].Peer.Type != PeerTypeMesh {
			t.Fatalf("node %d status:\n%s\nwant one established mesh peer %s", i, out.String(), peer)
		}
		if !strings.Contains(out.String(), "| "+peer+" ") || !strings.Contains(out.String(), "| node-to-node mesh | up    |") {
			t.Errorf("node %d status table:\n%s", i, out.String())
		}
		// The CalicoNodeStatus resource, written by the node's reporter.
		var cns v3.CalicoNodeStatus
		deadline = time.Now().Add(10 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(dir, "nodestatus.json"))
			if json.Unmarshal(b, &cns) == nil && cns.Status.BGP.NumberEstablishedV4 == 1 && len(cns.Status.Routes.RoutesV4) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: CalicoNodeStatus never showed the established peer: %+v", i, cns.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		want := []v3.CalicoNodePeer{{PeerIP: peer, Type: v3.BGPPeerTypeNodeMesh, State: v3.BGPSessionStateEstablished, Since: cns.Status.BGP.PeersV4[0].Since}}
		if !reflect.DeepEqual(cns.Status.BGP.PeersV4, want) || cns.Status.BGP.NumberNotEstablishedV4 != 0 || cns.Status.LastUpdated.IsZero() {
			t.Errorf("node %d CalicoNodeStatus status: %+v, want peers %+v", i, cns.Status, want)
		}
		routes := map[string]v3.CalicoNodeRoute{}
		for _, r := range cns.Status.Routes.RoutesV4 {
			routes[r.Destination] = r
		}
		wantRoutes := map[string]v3.CalicoNodeRoute{
			own: {Type: v3.RouteTypeFIB, Destination: own, Gateway: "N/A", Interface: "blackhole",
				LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeStatic}},
			theirs: {Type: v3.RouteTypeFIB, Destination: theirs, Gateway: peer, Interface: "eth0",
				LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeNodeMesh, PeerIP: peer}},
		}
		if !reflect.DeepEqual(routes, wantRoutes) {
			t.Errorf("node %d CalicoNodeStatus routes: %+v, want %+v", i, routes, wantRoutes)
		}
		if a := cns.Status.Agent.BIRDV4; a.State != v3.BGPDaemonStateReady || a.RouterID != fmt.Sprintf("198.18.0.%d", 11+i) {
			t.Errorf("node %d CalicoNodeStatus agent: %+v", i, a)
		}
	}
}

// allClassesNodeStatus asks node for Agent, BGP and Routes every second.
func allClassesNodeStatus(name, node string) *v3.CalicoNodeStatus {
	s := newNodeStatus(name, node, 1)
	s.Spec.Classes = []v3.NodeStatusClassType{v3.NodeStatusClassTypeAgent, v3.NodeStatusClassTypeBGP, v3.NodeStatusClassTypeRoutes}
	return s
}

// startComponent runs TestHelperBGPComponent inside ns and stops it with
// SIGTERM at cleanup, failing the test if it did not exit cleanly.
func startComponent(t *testing.T, ns *testutil.Netns, cfgPath, logPath string) {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(os.Args[0], "-test.run=^TestHelperBGPComponent$", "-test.count=1")
	cmd.Env = append(os.Environ(), componentHelperEnv+"="+cfgPath)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); log.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			err = fmt.Errorf("%w; killed after 10s without exiting on SIGTERM", <-done)
		}
		if err != nil {
			t.Errorf("component process %s ended with %v", cfgPath, err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of %s:\n%s", cfgPath, tail(string(b), 3000))
		}
	})
}
