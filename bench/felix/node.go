package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/felix"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
	"github.com/tricolor-net/tricolor/internal/testutil"
	"github.com/tricolor-net/tricolor/internal/testutil/loadgen"
)

const nodeName = "bench-node"

// nodeSpec is the node's load: 1,000 local workload endpoints and 1,000
// global policies of 10 rules (5 ingress, 5 egress) each. Every policy
// also selects the endpoints labelled loaded=true.
var nodeSpec = loadgen.Spec{Node: nodeName, Endpoints: 1000, Local: 1000, Policies: 1000, RulesPerPolicy: 10,
	AllGlobal: true, Egress: true, SelectorOr: "loaded == 'true'"}

// Real pods: loadgen endpoint indices that get a namespace and a veth.
// The plain pair carries labels no policy selects (only its namespace
// profile applies); the loaded pair is selected by all 1,000 policies.
const (
	plainA, plainB   = 1, 2
	loadedA, loadedB = 3, 4
)

// pod is one wired workload.
type pod struct {
	ns *testutil.Netns
	ip string
}

// benchNode is the node namespace with its pods, the datastore and Felix.
type benchNode struct {
	node *testutil.Netns
	pods map[int]*pod
	c    *client.Client
	stop []func()
}

func (b *benchNode) close() {
	for i := len(b.stop) - 1; i >= 0; i-- {
		b.stop[i]()
	}
}

// podLabels are the labels of the real pods (the declared endpoints keep
// loadgen's app/role labels, so each is selected by 5 policies).
func podLabels(i int) map[string]string {
	switch i {
	case plainA, plainB:
		return map[string]string{"app": "plain"}
	case loadedB:
		return map[string]string{"app": "loaded", "loaded": "true", "probe": "target"}
	default:
		return map[string]string{"app": "loaded", "loaded": "true"}
	}
}

// setUp starts an embedded etcd, writes the load, wires the real pods and
// runs Felix in the node namespace until ctx ends; it returns once Felix
// has programmed everything.
func setUp(ctx context.Context, tmp string) (_ *benchNode, err error) {
	b := &benchNode{pods: map[int]*pod{}}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	emb, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(tmp, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		return nil, err
	}
	b.stop = append(b.stop, func() { emb.Close() })
	c, closeC, err := client.Open(ctx, &client.Config{CalicoAPIConfigSpec: client.CalicoAPIConfigSpec{
		DatastoreType: client.DatastoreEtcdV3, EtcdConfig: client.EtcdConfig{EtcdEndpoints: emb.Endpoints()[0]}}, Source: "bench-felix"})
	if err != nil {
		return nil, err
	}
	b.stop = append(b.stop, func() { closeC() })
	b.c = c

	objs := nodeSpec.Objects()
	for i, o := range objs {
		if w, ok := o.(*v3.WorkloadEndpoint); ok {
			if idx := endpointIndex(w); idx >= plainA && idx <= loadedB {
				objs[i] = nodeSpec.Endpoint(idx, podLabels(idx))
			}
		}
	}
	objs = append(objs, allowLoaded(), flipPolicy(v3.Allow), felixConfig())
	t0 := time.Now()
	if err := createAll(ctx, c, objs); err != nil {
		return nil, err
	}
	log.Printf("bench/felix: wrote %d resources in %v", len(objs), time.Since(t0).Round(time.Millisecond))

	if b.node, err = testutil.CreateNetns("fxnode"); err != nil {
		return nil, err
	}
	b.stop = append(b.stop, func() { _ = b.node.Delete() })
	if err := testutil.PrepareWorkloadNode(b.node); err != nil {
		return nil, err
	}
	for _, i := range []int{plainA, plainB, loadedA, loadedB} {
		ns, err := testutil.CreateNetns(fmt.Sprintf("fxpod%d", i))
		if err != nil {
			return nil, err
		}
		b.stop = append(b.stop, func() { _ = ns.Delete() })
		b.pods[i] = &pod{ns: ns, ip: loadgen.IP(i)}
		if err := testutil.WireWorkload(b.node, ns, loadgen.InterfaceName(i), loadgen.IP(i)); err != nil {
			return nil, err
		}
	}

	log.Printf("bench/felix: namespaces wired at %v", time.Since(t0).Round(time.Millisecond))
	f := felix.New(felix.Config{NodeName: nodeName, Backend: c.Backend(),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- autodetect.InNetns(b.node.Name, func() error { return f.Run(fctx) }) }()
	b.stop = append(b.stop, func() { cancel(); <-done })
	select {
	case <-f.ReadyCh():
	case err := <-done:
		return nil, fmt.Errorf("felix stopped before it was ready: %v", err)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b, nil
}

// endpointIndex recovers a loadgen endpoint's index from its pod name.
func endpointIndex(w *v3.WorkloadEndpoint) int {
	var i int
	if _, err := fmt.Sscanf(w.Spec.Pod, "w%d", &i); err != nil {
		return -1
	}
	return i
}

// allowLoaded lets the loaded pods talk after the 1,000 policies (whose
// rules match none of the benchmark's traffic): without it the default
// tier's end would drop everything.
func allowLoaded() *v3.GlobalNetworkPolicy {
	p := v3.NewGlobalNetworkPolicy()
	p.Name = "zz-allow-loaded"
	order := 100.0
	p.Spec.Order, p.Spec.Selector = &order, "loaded == 'true'"
	p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress, v3.PolicyTypeEgress}
	p.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
	p.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	return p
}

// probePort is the TCP port the latency probe connects to; no load
// policy's rules mention it.
const probePort = 9000

// flipPolicy is the policy the latency benchmark flips: first in the
// default tier, ingress to the probe target, TCP/probePort, action a.
func flipPolicy(a v3.Action) *v3.GlobalNetworkPolicy {
	p := v3.NewGlobalNetworkPolicy()
	p.Name = "flip"
	order := 0.0
	p.Spec.Order, p.Spec.Selector = &order, "probe == 'target'"
	p.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress}
	tcp := numorstring.ProtocolFromString("TCP")
	p.Spec.Ingress = []v3.Rule{{Action: a, Protocol: &tcp, Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.SinglePort(probePort)}}}}
	return p
}

// createAll writes objs with a few concurrent writers (profiles and the
// tier come first in objs, and the datastore does not need an order).
func createAll(ctx context.Context, c *client.Client, objs []v3.Resource) error {
	work := make(chan v3.Resource)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if _, err := c.Create(ctx, o); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("create %s %s/%s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}
