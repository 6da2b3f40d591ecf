package cluster

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// TestPrivilegedCluster_Bench measures, on a two-node cluster, pod creation
// → Ready for 50 pods (against the same for host-network pods, which need
// no CNI, created the same way in the same run), and NetworkPolicy create
// → enforced (against create → seen by a watch on the API). It runs only
// with TRICOLOR_CLUSTER_BENCH=<markdown file> (hack/bench.d/90-cluster.sh).
func TestPrivilegedCluster_Bench(t *testing.T) {
	out := os.Getenv("TRICOLOR_CLUSTER_BENCH")
	if out == "" {
		t.Skip("benchmark; run with TRICOLOR_CLUSTER_BENCH=<output.md> (make bench / hack/bench.sh cluster)")
	}
	c := Up(t, Options{Nodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	const pods = 50
	hostNet := c.podReadyTimes(ctx, t, "bench-host", pods, true)
	calico := c.podReadyTimes(ctx, t, "bench-pods", pods, false)
	enforced, seen := c.policyTimes(ctx, t, 10)

	var b strings.Builder
	fmt.Fprintf(&b, "| Measure (2 nodes, real kubelet + containerd) | p50 | p99 | baseline p50 | baseline p99 | ratio p50 | ratio p99 |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, m, base []time.Duration) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2f | %.2f |\n", name, ms(pct(m, 50)), ms(pct(m, 99)), ms(pct(base, 50)), ms(pct(base, 99)),
			ratioOf(pct(m, 50), pct(base, 50)), ratioOf(pct(m, 99), pct(base, 99)))
	}
	row(fmt.Sprintf("pod create → Ready, %d pods (baseline: hostNetwork pods, no CNI)", pods), calico, hostNet)
	row(fmt.Sprintf("NetworkPolicy create → enforced, %d rounds (baseline: create → seen by an API watch)", len(enforced)), enforced, seen)
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

// podReadyTimes creates n pods at once, spread over the nodes, and returns
// each pod's time from its creation request to Ready (seen by a watch).
func (c *Cluster) podReadyTimes(ctx context.Context, t *testing.T, ns string, n int, hostNetwork bool) []time.Duration {
	t.Helper()
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := c.Kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Stop() }()
	var mu sync.Mutex
	created := map[string]time.Time{}
	zero := int64(0)
	go func() {
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("p%d", i)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: corev1.PodSpec{NodeName: c.Nodes[i%len(c.Nodes)].Name, HostNetwork: hostNetwork, TerminationGracePeriodSeconds: &zero,
					Containers: []corev1.Container{{Name: "pause", Image: PauseImage, ImagePullPolicy: corev1.PullNever}}}}
			mu.Lock()
			created[name] = time.Now()
			mu.Unlock()
			if _, err := c.Kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				t.Error(err)
			}
		}
	}()
	ready := map[string]time.Duration{}
	record := func(p *corev1.Pod, at time.Time) {
		if _, done := ready[p.Name]; done || !podReady(p) {
			return
		}
		mu.Lock()
		if t0, ok := created[p.Name]; ok {
			ready[p.Name] = at.Sub(t0)
		}
		mu.Unlock()
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for len(ready) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d pods Ready in %s before the deadline", len(ready), n, ns)
		case ev, ok := <-w.ResultChan():
			if !ok {
				w, err = c.Kube.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				continue
			}
			if p, isPod := ev.Object.(*corev1.Pod); isPod {
				record(p, time.Now())
			}
		case <-tick.C:
			// A Ready transition the watch did not deliver: the
			// condition's own time (1 s resolution) stands in.
			list, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range list.Items {
				p := &list.Items[i]
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.PodReady {
						record(p, cond.LastTransitionTime.Time)
					}
				}
			}
		}
	}
	out := make([]time.Duration, 0, n)
	for _, d := range ready {
		out = append(out, d)
	}
	return out
}

// policyTimes runs rounds of: create a deny-all ingress policy on a
// server pod, time until a client's ping stops being answered (enforced)
// and until an API watch delivers the policy (seen); delete it and wait
// until the ping works again.
func (c *Cluster) policyTimes(ctx context.Context, t *testing.T, rounds int) (enforced, seen []time.Duration) {
	t.Helper()
	srv, err := c.RunPod(ctx, "default", "bench-srv", c.Nodes[1].Name, map[string]string{"app": "bench-srv"})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := c.RunPod(ctx, "default", "bench-cli", c.Nodes[0].Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "bench client reaches the server", 90*time.Second, func() error { return c.Ping(cli, srv.Status.PodIP) })
	for i := 0; i < rounds; i++ {
		name := fmt.Sprintf("bench-deny-%d", i)
		w, err := c.Kube.NetworkingV1().NetworkPolicies("default").Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
		if err != nil {
			t.Fatal(err)
		}
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "bench-srv"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
		start := time.Now()
		if _, err := c.Kube.NetworkingV1().NetworkPolicies("default").Create(ctx, np, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		<-w.ResultChan()
		seen = append(seen, time.Since(start))
		w.Stop()
		for c.pingQuick(cli, srv.Status.PodIP) == nil {
			if time.Since(start) > time.Minute {
				t.Fatalf("round %d: policy not enforced within a minute", i)
			}
		}
		enforced = append(enforced, time.Since(start))
		if err := c.Kube.NetworkingV1().NetworkPolicies("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "policy removal restores the ping", time.Minute, func() error { return c.Ping(cli, srv.Status.PodIP) })
	}
	return enforced, seen
}

// pingQuick is one ping with a short wait, for polling enforcement.
func (c *Cluster) pingQuick(from *corev1.Pod, addr string) error {
	return c.pingWithin(from, addr, "0.2")
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func ratioOf(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
