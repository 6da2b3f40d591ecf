package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/internal/lab"
)

// Bench pods in the lab: two on node-1, one on node-2 (same subnet as
// node-1) and one on node-3 (the other subnet).
var benchPods = []lab.PodSpec{
	{Name: "a1", Namespace: "bench", Node: "node-1", Labels: map[string]string{"app": "a1"}},
	{Name: "a2", Namespace: "bench", Node: "node-1", Labels: map[string]string{"app": "a2"}},
	{Name: "b", Namespace: "bench", Node: "node-2", Labels: map[string]string{"app": "b"}},
	{Name: "c", Namespace: "bench", Node: "node-3", Labels: map[string]string{"app": "c"}},
}

// convergeTimeout bounds the wait for BGP and VXLAN routes after up.
const convergeTimeout = 60 * time.Second

// clusterLab is the lab under test and what the baseline copies from it.
type clusterLab struct {
	l    *lab.Lab
	root string
	pods map[string]lab.Pod
	mtus mtus
}

// mtus are the lab's interface MTUs, which the baseline reproduces.
type mtus struct {
	pod   int // pod eth0 and its host-side veth (Calico's MTU file)
	vxlan int // vxlan.calico
}

// binaries returns the lab's programs: from dir, or built into a temporary
// directory (removed by the returned function).
func binaries(ctx context.Context, dir string) (lab.Binaries, func(), error) {
	clean := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tricolor-bench-lab-bin-")
		if err != nil {
			return lab.Binaries{}, nil, err
		}
		clean = func() { os.RemoveAll(tmp) }
		const mod = "github.com/tricolor-net/tricolor/cmd/"
		out, err := exec.CommandContext(ctx, "go", "build", "-ldflags=-s -w", "-o", tmp+"/", mod+"calico-lab", mod+"calico-node", mod+"calico").CombinedOutput()
		if err != nil {
			clean()
			return lab.Binaries{}, nil, fmt.Errorf("build calico-lab, calico-node, calico: %v\n%s", err, out)
		}
		dir = tmp
	}
	b, err := lab.FindBinaries(dir)
	if err != nil {
		clean()
		return lab.Binaries{}, nil, err
	}
	return b, clean, nil
}

// upClusterLab brings up three nodes on two subnets (BGP mesh, VXLAN
// CrossSubnet pool — the lab's defaults), creates the bench pods, waits
// until every pod reaches every other, and checks that the two cross-node
// paths take the shapes they are reported as.
func upClusterLab(ctx context.Context, bins lab.Binaries, logf func(string, ...any)) (*clusterLab, error) {
	topo, err := lab.FlagTopology(3, 2)
	if err != nil {
		return nil, err
	}
	topo.Pods = benchPods
	root, err := os.MkdirTemp("", "tricolor-bench-lab-")
	if err != nil {
		return nil, err
	}
	l, err := lab.Up(ctx, topo, lab.Options{RunRoot: root, Bins: bins, Progress: func(s string) { logf("lab: %s", s) }})
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	cl := &clusterLab{l: l, root: root, pods: map[string]lab.Pod{}}
	if err := cl.prepare(ctx, logf); err != nil {
		cl.down()
		return nil, err
	}
	return cl, nil
}

func (cl *clusterLab) prepare(ctx context.Context, logf func(string, ...any)) error {
	for _, p := range cl.l.Pods() {
		cl.pods[p.Name] = p
	}
	if err := cl.waitConverged(ctx); err != nil {
		return err
	}
	logf("lab %s: every bench pod reaches every other", cl.l.RunID())
	node1 := lab.NodeNetns(cl.l.RunID(), "node-1")
	for _, want := range []struct {
		pod, dev string
		vxlan    bool
	}{{"b", "eth0", false}, {"c", "vxlan.calico", true}} {
		out, err := exec.CommandContext(ctx, "ip", "-n", node1, "route", "get", cl.pods[want.pod].IP).CombinedOutput()
		if err != nil {
			return fmt.Errorf("route from node-1 to pod %s: %v: %s", want.pod, err, out)
		}
		if !strings.Contains(string(out), "dev "+want.dev) {
			return fmt.Errorf("node-1 routes pod %s (%s) as %q; the benchmark reports this path as going through %s", want.pod, cl.pods[want.pod].IP, strings.TrimSpace(string(out)), want.dev)
		}
	}
	var err error
	a1 := cl.pods["a1"]
	if cl.mtus.pod, err = linkMTU(ctx, a1.Netns, "eth0"); err != nil {
		return err
	}
	if cl.mtus.vxlan, err = linkMTU(ctx, node1, "vxlan.calico"); err != nil {
		return err
	}
	return nil
}

// waitConverged waits until the TCP matrix of the bench pods is full.
func (cl *clusterLab) waitConverged(ctx context.Context) error {
	deadline := time.Now().Add(convergeTimeout)
	for {
		m, err := cl.l.Matrix(ctx, lab.MatrixOptions{Proto: lab.ProtoTCP})
		if err != nil {
			return err
		}
		failed := m.Failures()
		if len(failed) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab routes did not converge in %s; still failing: %s\n%s", convergeTimeout, strings.Join(failed, ", "), m)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// down removes the lab and its run root.
func (cl *clusterLab) down() {
	if err := cl.l.Down(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "bench/lab: removing lab %s: %v\n", cl.l.RunID(), err)
	}
	os.RemoveAll(cl.root)
}

// linkMTU reads an interface's MTU inside a namespace.
func linkMTU(ctx context.Context, netns, dev string) (int, error) {
	out, err := exec.CommandContext(ctx, "ip", "-n", netns, "-o", "link", "show", "dev", dev).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("read the MTU of %s in %s: %v: %s", dev, netns, err, out)
	}
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "mtu" {
			var mtu int
			if _, err := fmt.Sscan(f[i+1], &mtu); err == nil {
				return mtu, nil
			}
		}
	}
	return 0, fmt.Errorf("no mtu in `ip -n %s link show dev %s`: %s", netns, dev, out)
}
