package felix

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/dataplane"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

const thisNode = "node1"

// harness is a Felix over a memory datastore and a fake nft table.
type harness struct {
	t    *testing.T
	be   *memory.Backend
	c    *client.Client
	fake *knftables.Fake
}

func newHarness(t *testing.T) *harness {
	be := memory.New()
	return &harness{t: t, be: be, c: client.New(be), fake: knftables.NewFake(knftables.InetFamily, dataplane.TableName)}
}

// start runs f until the test ends and fails the test if Run returns an
// error.
func (h *harness) start(f *Felix) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				h.t.Errorf("Felix.Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			h.t.Error("Felix.Run did not return after cancel")
		}
	})
}

func (h *harness) config(mod func(*Config)) Config {
	cfg := Config{NodeName: thisNode, Backend: h.be, NFT: h.fake,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func (h *harness) apply(res v3.Resource) {
	h.t.Helper()
	if _, err := h.c.Apply(context.Background(), res); err != nil {
		h.t.Fatalf("write %s %s: %v", res.GetObjectKind().GroupVersionKind().Kind, res.GetName(), err)
	}
}

// waitDump waits until the fake table's dump satisfies ok.
func (h *harness) waitDump(within time.Duration, what string, ok func(string) bool) string {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		d := h.fake.Dump()
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %v the nft table does not show %s:\n%s", within, what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitReady(t *testing.T, f *Felix) {
	t.Helper()
	select {
	case <-f.ReadyCh():
	case <-time.After(10 * time.Second):
		t.Fatal("Felix did not become ready within 10s")
	}
}

func nsProfile(ns string) *v3.Profile {
	p := v3.NewProfile()
	p.Name = "kns." + ns
	p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
	p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	return p
}

func wep(node, ns, pod, iface, ip string, labels map[string]string) *v3.WorkloadEndpoint {
	w := v3.NewWorkloadEndpoint()
	w.Namespace, w.Name, w.Labels = ns, node+"-k8s-"+pod+"-eth0", labels
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: node, Pod: pod, Endpoint: "eth0",
		IPNetworks: []string{ip + "/32"}, InterfaceName: iface, MAC: "ee:ee:ee:ee:ee:ee", Profiles: []string{"kns." + ns}}
	return w
}

func netpol(ns, name, sel string, action v3.Action) *v3.NetworkPolicy {
	p := v3.NewNetworkPolicy()
	p.Namespace, p.Name = ns, name
	p.Spec.Selector = sel
	p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress}
	p.Spec.Ingress = []v3.Rule{{Action: action, Protocol: protoTCP()}}
	return p
}

func felixConfig(name string, mod func(*v3.FelixConfigurationSpec)) *v3.FelixConfiguration {
	fc := v3.NewFelixConfiguration()
	fc.Name = name
	mod(&fc.Spec)
	return fc
}

func contains(subs ...string) func(string) bool {
	return func(d string) bool {
		for _, s := range subs {
			if !strings.Contains(d, s) {
				return false
			}
		}
		return true
	}
}

// gatedBackend holds every List until open is closed: the datastore is
// "slow", so the syncer cannot reach in-sync.
type gatedBackend struct {
	datastore.Backend
	open chan struct{}
}

func (g gatedBackend) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Backend.List(ctx, opts)
}

func protoTCP() *numorstring.Protocol {
	p := numorstring.ProtocolFromString("TCP")
	return &p
}
