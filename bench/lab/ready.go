package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/bench/internal/stats"
	"github.com/tricolor-net/tricolor/internal/lab"
)

// Pod-ready measurement settings.
const (
	readyNamespace = "ready"
	readyNode      = "node-1"
	readyPort      = 8080
	// probeAttempt bounds one connection attempt: a SYN the dataplane
	// drops gets no answer, so this is also the measurement's resolution.
	probeAttempt = 25 * time.Millisecond
	// readyTimeout bounds the wait for one pod.
	readyTimeout = 60 * time.Second
)

// readyResult is the pod-ready measurement.
type readyResult struct {
	pods       int
	add, ready []time.Duration // per pod, from the start of its creation
	afterAdd   []time.Duration // per pod, ready minus add
	// firstAttempt counts pods whose first probe, sent when creation
	// returned, already got through.
	firstAttempt int
	total        time.Duration // first creation start to last pod ready
	// controlBlocked: a pod created while calico-node was stopped was
	// unreachable; outsiderBlocked: a pod the policy does not allow was
	// refused. Both must hold for the measurement to mean anything.
	controlBlocked, outsiderBlocked bool
}

// measurePodReady creates a prober pod, an outsider pod and a
// NetworkPolicy that lets only the prober reach pods labelled
// role=target on port 8080, then creates n target pods back to back on
// one node. For each it records when creation returned (CNI ADD done) and
// when a connection from the prober first succeeded. Before an endpoint
// is programmed its interface is unknown to Felix and dropped (fail
// closed), so success means Felix programmed the endpoint and the policy;
// two controls check that premise in the same run (a pod created while
// calico-node is stopped stays unreachable, the outsider is refused).
func measurePodReady(ctx context.Context, cl *clusterLab, n int, logf func(string, ...any)) (*readyResult, error) {
	l := cl.l
	prober, err := l.AddPod(ctx, lab.PodSpec{Name: "prober", Namespace: readyNamespace, Node: readyNode, Labels: map[string]string{"role": "prober"}})
	if err != nil {
		return nil, err
	}
	outsider, err := l.AddPod(ctx, lab.PodSpec{Name: "outsider", Namespace: readyNamespace, Node: readyNode, Labels: map[string]string{"role": "outsider"}})
	if err != nil {
		return nil, err
	}
	if err := createReadyPolicy(ctx, l); err != nil {
		return nil, err
	}
	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}()
	add := func(name string) (*lab.Pod, time.Time, time.Duration, error) {
		t0 := time.Now()
		pod, err := l.AddPod(ctx, lab.PodSpec{Name: name, Namespace: readyNamespace, Node: readyNode, Labels: map[string]string{"role": "target"}})
		took := time.Since(t0)
		if err != nil {
			return nil, t0, 0, err
		}
		ln, err := lab.ListenIn(pod.Netns, net.JoinHostPort(pod.IP, fmt.Sprint(readyPort)))
		if err != nil {
			return nil, t0, 0, err
		}
		listeners = append(listeners, ln)
		go acceptAndClose(ln)
		return pod, t0, took, nil
	}

	// Control pod, not counted: created while node-1's calico-node is
	// stopped it must stay unreachable (nothing but Felix opens the path);
	// once calico-node is back it must become reachable, and the outsider
	// must be refused (the policy is enforced).
	res := &readyResult{pods: n}
	if err := l.StopNode(ctx, readyNode); err != nil {
		return nil, err
	}
	control, _, _, err := add("control")
	if err != nil {
		return nil, err
	}
	res.controlBlocked = !probeOnce(ctx, prober.Netns, control.IP, time.Second)
	if err := l.StartNode(ctx, readyNode); err != nil {
		return nil, err
	}
	if !res.controlBlocked {
		return nil, fmt.Errorf("pod-ready: pod %s was reachable while calico-node on %s was stopped; a successful probe would not show that Felix programmed the endpoint", control.Key(), readyNode)
	}
	t0 := time.Now()
	if _, _, err := waitAllowed(ctx, prober.Netns, control.IP); err != nil {
		return nil, fmt.Errorf("control pod %s after calico-node restarted: %w", control.Key(), err)
	}
	logf("pod-ready: control pod unreachable while calico-node was stopped, reachable %s after it started", time.Since(t0).Round(time.Millisecond))
	res.outsiderBlocked = !probeOnce(ctx, outsider.Netns, control.IP, time.Second)
	if !res.outsiderBlocked {
		return nil, errors.New("pod-ready: the outsider pod reached a target pod; the NetworkPolicy is not enforced, so a successful probe would not show that Felix programmed the policy")
	}

	type sample struct {
		ready    time.Duration
		attempts int
		err      error
	}
	samples := make([]sample, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		pod, t0, took, err := add(fmt.Sprintf("t%03d", i+1))
		if err != nil {
			wg.Wait()
			return nil, err
		}
		res.add = append(res.add, took)
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, attempts, err := waitAllowed(ctx, prober.Netns, pod.IP)
			samples[i] = sample{at.Sub(t0), attempts, err}
		}()
	}
	wg.Wait()
	res.total = time.Since(start)
	for i, s := range samples {
		if s.err != nil {
			return nil, fmt.Errorf("pod %s/t%03d: %w", readyNamespace, i+1, s.err)
		}
		res.ready = append(res.ready, s.ready)
		res.afterAdd = append(res.afterAdd, s.ready-res.add[i])
		if s.attempts == 1 {
			res.firstAttempt++
		}
	}
	logf("pod-ready: %d pods in %s; ready p50 %s p99 %s; CNI ADD p50 %s p99 %s", n, res.total.Round(time.Millisecond),
		stats.Percentile(res.ready, 50), stats.Percentile(res.ready, 99), stats.Percentile(res.add, 50), stats.Percentile(res.add, 99))
	return res, nil
}

// createReadyPolicy lets pods labelled role=prober reach role=target pods
// on TCP readyPort, in the ready namespace; nothing else reaches them.
func createReadyPolicy(ctx context.Context, l *lab.Lab) error {
	c, closeC, err := l.Client(ctx)
	if err != nil {
		return err
	}
	defer closeC()
	tcp := numorstring.ProtocolFromString("TCP")
	np := v3.NewNetworkPolicy()
	np.Name, np.Namespace = "allow-prober", readyNamespace
	np.Spec.Selector = "role == 'target'"
	np.Spec.Types = []v3.PolicyType{v3.PolicyTypeIngress}
	np.Spec.Ingress = []v3.Rule{{Action: v3.Allow, Protocol: &tcp,
		Source:      v3.EntityRule{Selector: "role == 'prober'"},
		Destination: v3.EntityRule{Ports: []numorstring.Port{numorstring.SinglePort(readyPort)}}}}
	if _, err := c.Create(ctx, np); err != nil {
		return fmt.Errorf("create NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
	}
	return nil
}

// waitAllowed connects from a pod to ip:readyPort until a connection
// succeeds, and returns when it did and how many attempts it took.
func waitAllowed(ctx context.Context, netns, ip string) (time.Time, int, error) {
	deadline := time.Now().Add(readyTimeout)
	for attempts := 1; time.Now().Before(deadline); attempts++ {
		t := time.Now()
		if probeOnce(ctx, netns, ip, probeAttempt) {
			return time.Now(), attempts, nil
		}
		if ctx.Err() != nil {
			return time.Time{}, attempts, ctx.Err()
		}
		// A quick failure (an ICMP error) must not spin.
		if rest := probeAttempt - time.Since(t); rest > 0 {
			time.Sleep(rest)
		}
	}
	return time.Time{}, 0, fmt.Errorf("not reachable on %s:%d from %s within %s", ip, readyPort, netns, readyTimeout)
}

// probeOnce reports whether one TCP connection from netns to ip:readyPort
// succeeds within timeout.
func probeOnce(ctx context.Context, netns, ip string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := lab.DialIn(ctx, netns, "tcp", net.JoinHostPort(ip, fmt.Sprint(readyPort)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// acceptAndClose accepts connections and closes them at once.
func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}
