package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
	"github.com/tricolor-net/tricolor/internal/felix"
)

// The latency scenario: node bench-node runs pod "server" (app=server); a
// Calico NetworkPolicy lets in sources with role == 'client'. Flipping the
// role label of pod "client" (on another node) or of NetworkSet "clients"
// adds or removes its address in the IP set of that rule.
const (
	latNamespace = "bench"
	latNode      = "bench-node"
	serverIP     = "10.250.0.1"
	clientPodIP  = "10.250.1.1"
	clientSetIP  = "10.250.2.1"
)

// latencyResult holds the samples of one path: from the write call's start
// to the observed change, and the write call's own duration.
type latencyResult struct {
	name    string
	samples []time.Duration
	writes  []time.Duration
}

// ipsetProbe is the calculation graph of bench-node fed by the syncer: it
// flushes after every batch and reports when a watched address enters or
// leaves any IP set.
type ipsetProbe struct {
	g *calc.Graph

	mu      sync.Mutex
	waiters map[string]chan time.Time
	insync  chan struct{}
	once    sync.Once
}

func newIPSetProbe() *ipsetProbe {
	return &ipsetProbe{
		g:       calc.New(calc.Config{NodeName: latNode, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}),
		waiters: map[string]chan time.Time{}, insync: make(chan struct{}),
	}
}

func (p *ipsetProbe) OnStatusUpdated(s datastore.SyncStatus) {
	p.g.OnStatusUpdated(s)
	if s == datastore.InSync {
		p.once.Do(func() { close(p.insync) })
	}
}

func (p *ipsetProbe) OnUpdates(us []datastore.Update) {
	p.g.OnUpdates(us)
	now := time.Now()
	for _, u := range p.g.Flush() {
		var members []string
		switch d := u.(type) {
		case calc.IPSetDelta:
			members = append(append(members, d.Added...), d.Removed...)
		case calc.IPSetUpdate:
			members = d.Members
		}
		for _, m := range members {
			p.notify(strings.TrimSuffix(m, "/32"), now)
		}
	}
}

func (p *ipsetProbe) notify(ip string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.waiters[ip]; ok {
		delete(p.waiters, ip)
		ch <- at
	}
}

// expect registers interest in the next IP set change of ip.
func (p *ipsetProbe) expect(ip string) chan time.Time {
	ch := make(chan time.Time, 1)
	p.mu.Lock()
	p.waiters[ip] = ch
	p.mu.Unlock()
	return ch
}

// latencyBench is the state shared by the latency phases.
type latencyBench struct {
	cs    kubernetes.Interface
	c     *client.Client
	kdd   *k8s.KDD
	probe *ipsetProbe
	pod   *corev1.Pod // the client pod as last written
}

// setupLatency creates the scenario's objects and starts Felix's syncer
// (felix.SyncKinds) over the kubernetes datastore into the probe.
func setupLatency(ctx context.Context, cs kubernetes.Interface, kdd *k8s.KDD) (*latencyBench, error) {
	b := &latencyBench{cs: cs, c: client.New(kdd), kdd: kdd, probe: newIPSetProbe()}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: latNamespace}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: latNode}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	mkPod := func(name, node, ip string, labels map[string]string) (*corev1.Pod, error) {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: latNamespace, Labels: labels,
				Annotations: map[string]string{conversion.AnnotationPodIP: ip + "/32"}},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}
		return cs.CoreV1().Pods(latNamespace).Create(ctx, p, metav1.CreateOptions{})
	}
	if _, err := mkPod("server", latNode, serverIP, map[string]string{"app": "server"}); err != nil {
		return nil, err
	}
	var err error
	if b.pod, err = mkPod("client", "node-00", clientPodIP, map[string]string{"role": "other"}); err != nil {
		return nil, err
	}
	set := v3.NewNetworkSet()
	set.Name, set.Namespace, set.Labels = "clients", latNamespace, map[string]string{"role": "other"}
	set.Spec.Nets = []string{clientSetIP + "/32"}
	if _, err := b.c.Create(ctx, set); err != nil {
		return nil, err
	}
	pol := v3.NewNetworkPolicy()
	pol.Name, pol.Namespace = "allow-clients", latNamespace
	pol.Spec.Selector = "app == 'server'"
	pol.Spec.Ingress = []v3.Rule{{Action: v3.Allow, Source: v3.EntityRule{Selector: "role == 'client'"}}}
	if _, err := b.c.Create(ctx, pol); err != nil {
		return nil, err
	}
	kinds := make([]datastore.ListOptions, len(felix.SyncKinds))
	for i, k := range felix.SyncKinds {
		kinds[i] = datastore.ListOptions{Kind: k}
	}
	s := datastore.NewSyncer(kdd, kinds, b.probe)
	s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	go s.Run(ctx)
	select {
	case <-b.probe.insync:
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("felix's syncer over the kubernetes datastore did not reach InSync in 2 minutes")
	}
	return b, nil
}

// role alternates the label value so every sample changes membership.
func role(i int) string {
	if i%2 == 0 {
		return "client"
	}
	return "other"
}

// waitChange waits for the probe's timestamp and returns the latency from
// start (the write call's start).
func waitChange(ch chan time.Time, start time.Time, what string) (time.Duration, error) {
	select {
	case at := <-ch:
		return at.Sub(start), nil
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("%s: no IP set change within 30 s", what)
	}
}

// podToIPSet flips the client pod's label: Pod update → pod watch → the
// WorkloadEndpoint view → syncer → calc graph IP set delta.
func (b *latencyBench) podToIPSet(ctx context.Context, n int) (latencyResult, error) {
	r := latencyResult{name: "Pod label change → IP set delta (Pod → WorkloadEndpoint view → syncer → calc)"}
	for i := 0; i < n; i++ {
		ch := b.probe.expect(clientPodIP)
		b.pod.Labels["role"] = role(i)
		start := time.Now()
		p, err := b.cs.CoreV1().Pods(latNamespace).Update(ctx, b.pod, metav1.UpdateOptions{})
		if err != nil {
			return r, err
		}
		r.writes = append(r.writes, time.Since(start))
		b.pod = p
		d, err := waitChange(ch, start, "pod label change")
		if err != nil {
			return r, err
		}
		r.samples = append(r.samples, d)
	}
	return r, nil
}

// crdToIPSet flips the NetworkSet's label: the same path from a Calico
// custom resource (CRD watch → syncer → calc), the baseline. The write is
// one compare-and-swap PUT through the backend, like the Pod update.
func (b *latencyBench) crdToIPSet(ctx context.Context, n int) (latencyResult, error) {
	r := latencyResult{name: "NetworkSet (CRD) label change → IP set delta (baseline: CRD → syncer → calc)"}
	for i := 0; i < n; i++ {
		set, err := client.Get[*v3.NetworkSet](ctx, b.c, latNamespace, "clients")
		if err != nil {
			return r, err
		}
		ch := b.probe.expect(clientSetIP)
		set.Labels["role"] = role(i)
		rev := set.ResourceVersion
		set.ResourceVersion = ""
		value, err := json.Marshal(set)
		if err != nil {
			return r, err
		}
		kv := &datastore.KVPair{Key: datastore.Key{Kind: v3.KindNetworkSet, Namespace: latNamespace, Name: "clients"}, Value: value, Revision: rev}
		start := time.Now()
		if _, err := b.kdd.Update(ctx, kv); err != nil {
			return r, err
		}
		r.writes = append(r.writes, time.Since(start))
		d, err := waitChange(ch, start, "NetworkSet label change")
		if err != nil {
			return r, err
		}
		r.samples = append(r.samples, d)
	}
	return r, nil
}

// podWatch flips the client pod's label and times the raw pod watch event
// carrying the written resourceVersion (timestamped on arrival by a reader
// goroutine): the API server's own delivery, the floor under the Pod path.
func (b *latencyBench) podWatch(ctx context.Context, n int) (latencyResult, error) {
	r := latencyResult{name: "Pod label change → raw Pod watch event (baseline: API server delivery)"}
	w, err := b.cs.CoreV1().Pods(latNamespace).Watch(ctx, metav1.ListOptions{ResourceVersion: b.pod.ResourceVersion})
	if err != nil {
		return r, err
	}
	defer w.Stop()
	type arrival struct {
		rv string
		at time.Time
	}
	arrivals := make(chan arrival, 16)
	go func() {
		defer close(arrivals)
		for ev := range w.ResultChan() {
			if pod, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Modified && pod.Name == "client" {
				arrivals <- arrival{pod.ResourceVersion, time.Now()}
			}
		}
	}()
	for i := 0; i < n; i++ {
		b.pod.Labels["role"] = role(i)
		start := time.Now()
		p, err := b.cs.CoreV1().Pods(latNamespace).Update(ctx, b.pod, metav1.UpdateOptions{})
		if err != nil {
			return r, err
		}
		r.writes = append(r.writes, time.Since(start))
		b.pod = p
		timeout := time.After(30 * time.Second)
	wait:
		for {
			select {
			case a, ok := <-arrivals:
				if !ok {
					return r, fmt.Errorf("pod watch closed")
				}
				if a.rv == p.ResourceVersion {
					r.samples = append(r.samples, a.at.Sub(start))
					break wait
				}
			case <-timeout:
				return r, fmt.Errorf("no watch event for pod revision %s in 30 s", p.ResourceVersion)
			}
		}
	}
	return r, nil
}
