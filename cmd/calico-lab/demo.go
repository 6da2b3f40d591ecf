package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/examples"
	"github.com/tricolor-net/tricolor/internal/lab"
)

// demoConvergeTimeout bounds each wait for the network to match what the
// demo expects (routes after up, policy after apply).
const demoConvergeTimeout = 60 * time.Second

func demoCmd(g *globals) *cobra.Command {
	var binDir string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Build the README's three-node cluster, show reachability before and after policy, BGP, routes and IPAM, then tear it down",
		Long: `demo is what "make demo" runs: it brings up examples/lab.yaml (three nodes,
two on one subnet and one behind the fabric's router, BGP mesh and a VXLAN
CrossSubnet pool, six pods in two namespaces), waits until every pod reaches
every pod, applies examples/lab-policy.yaml and waits until reachability
matches it, shows calicoctl node status, a node's routes and IPAM, shows a
bad pool refused, and removes everything. One progress line per step; it
fails (exit 1) when the network does not reach the expected state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// A closed output pipe (`calico-lab demo | head`) must not kill
			// the demo before it tears its lab down: writes fail instead.
			signal.Ignore(syscall.SIGPIPE)
			bins, err := lab.FindBinaries(binDir)
			if err != nil {
				return err
			}
			d := &demo{out: os.Stdout, start: time.Now(), opts: lab.Options{RunRoot: g.runRoot, RunID: g.runID, Bins: bins}}
			return d.run(cmd.Context())
		},
	}
	c.Flags().StringVar(&binDir, "bin-dir", "", "directory with calico-node, calico and calicoctl (default: next to calico-lab, then PATH)")
	return c
}

// demo runs the steps and prints them.
type demo struct {
	out   io.Writer
	start time.Time
	opts  lab.Options
	l     *lab.Lab
	step  int
}

// demoSteps is the number of steps run prints ("step 3/13").
const demoSteps = 13

func (d *demo) run(ctx context.Context) (err error) {
	defer func() {
		if d.l == nil {
			return
		}
		// Tear down also after a failure or ^C.
		if derr := lab.Down(context.Background(), d.opts.RunRoot, d.l.RunID()); derr != nil && err == nil {
			err = derr
		}
	}()
	topo, err := lab.ParseTopology(examples.LabTopology)
	if err != nil {
		return fmt.Errorf("examples/lab.yaml: %w", err)
	}
	d.header("Build the cluster: fabric with two routed subnets, embedded etcd, 3 calico-node processes, 6 pods", "calico-lab up -f examples/lab.yaml")
	opts := d.opts
	opts.Progress = func(s string) { d.printf("  %s\n", s) }
	if d.l, err = lab.Up(ctx, topo, opts); err != nil {
		return err
	}

	d.header("Nodes as registered in the datastore", "calico-lab ctl -- get nodes -o wide")
	if err := d.calicoctl(ctx, nil, "get", "nodes", "-o", "wide"); err != nil {
		return err
	}

	d.header("Pods (IPs from Calico IPAM, veths named like Calico's)", "calico-lab pods")
	d.printf("%s", lab.PodTable(d.l.Pods()))

	d.header("Reachability with no policy (node-1↔node-2 over BGP routes, node-3 on the other subnet over VXLAN CrossSubnet)", "calico-lab probe")
	if err := d.probeUntil(ctx, func(from, to lab.Pod) bool { return true }); err != nil {
		return err
	}

	d.header("Apply a tier with a GlobalNetworkPolicy (deny ops → shop) and a NetworkPolicy (only web → db)", "calico-lab ctl -- apply -f examples/lab-policy.yaml")
	if err := d.calicoctl(ctx, examples.LabPolicy, "apply", "-f", "-"); err != nil {
		return err
	}

	d.header("Reachability with policy", "calico-lab probe")
	if err := d.probeUntil(ctx, func(from, to lab.Pod) bool {
		return examples.LabPolicyAllows(from.Namespace, from.Labels, to.Namespace, to.Labels)
	}); err != nil {
		return err
	}

	d.header("BGP on node-1: a full mesh with the other nodes", "calico-lab node status node-1")
	ns, err := d.l.NodeStatusCommand(ctx, "node-1")
	if err != nil {
		return err
	}
	if err := d.runShown(ns); err != nil {
		return err
	}

	node1 := lab.NodeNetns(d.l.RunID(), "node-1")
	d.header("node-1's routes: /32 per local pod, node-2's block over BGP (proto bird), node-3's block over vxlan.calico (proto 80), its own block blackholed", "ip -n "+node1+" route")
	if err := d.runShown(exec.CommandContext(ctx, "ip", "-n", node1, "route")); err != nil {
		return err
	}

	d.header("IPAM: one block per node", "calico-lab ctl -- ipam show --show-blocks")
	if err := d.calicoctl(ctx, nil, "ipam", "show", "--show-blocks"); err != nil {
		return err
	}

	d.header("IPAM consistency check", "calico-lab ctl -- ipam check")
	if err := d.calicoctl(ctx, nil, "ipam", "check"); err != nil {
		return err
	}

	d.header("Bad input is refused, named, and nothing is written", "calico-lab ctl -- apply -f examples/bad-pool.yaml")
	if err := d.calicoctl(ctx, examples.BadPool, "apply", "-f", "-"); err == nil {
		return errors.New("demo: calicoctl accepted examples/bad-pool.yaml")
	}

	d.header("Pools unchanged", "calico-lab ctl -- get ippools -o wide")
	if err := d.calicoctl(ctx, nil, "get", "ippools", "-o", "wide"); err != nil {
		return err
	}

	d.header("Tear down", "calico-lab down --id "+d.l.RunID())
	if err := lab.Down(ctx, d.opts.RunRoot, d.l.RunID()); err != nil {
		return err
	}
	d.printf("lab %s removed\n", d.l.RunID())
	d.l = nil
	d.printf("\ndemo: OK in %s\n", time.Since(d.start).Round(100*time.Millisecond))
	return nil
}

// header prints a step's progress line and the command it shows.
func (d *demo) header(title, command string) {
	d.step++
	d.printf("\n[%5.1fs] step %d/%d: %s\n$ %s\n", time.Since(d.start).Seconds(), d.step, demoSteps, title, command)
}

func (d *demo) printf(format string, a ...any) { fmt.Fprintf(d.out, format, a...) }

// calicoctl runs calicoctl on the lab with its output shown; stdin is
// given when not nil.
func (d *demo) calicoctl(ctx context.Context, stdin []byte, args ...string) error {
	c, err := d.l.CalicoctlCommand(ctx, args...)
	if err != nil {
		return err
	}
	if stdin != nil {
		c.Stdin = strings.NewReader(string(stdin))
	}
	return d.runShown(c)
}

// runShown runs a command with its output on the demo's output.
func (d *demo) runShown(c *exec.Cmd) error {
	c.Stdout, c.Stderr = d.out, d.out
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(c.Args, " "), err)
	}
	return nil
}

// probeUntil probes all pairs (ICMP) until the matrix is what want says,
// prints it, and fails when it does not get there in time: the printed
// table never shows a network still converging.
func (d *demo) probeUntil(ctx context.Context, want func(from, to lab.Pod) bool) error {
	pods := map[string]lab.Pod{}
	for _, p := range d.l.Pods() {
		pods[p.Key()] = p
	}
	deadline := time.Now().Add(demoConvergeTimeout)
	for {
		m, err := d.l.Matrix(ctx, lab.MatrixOptions{})
		if err != nil {
			return err
		}
		var wrong []string
		for i, from := range m.Pods {
			for j, to := range m.Pods {
				if i != j && m.OK[i][j] != want(pods[from], pods[to]) {
					wrong = append(wrong, from+" -> "+to)
				}
			}
		}
		if len(wrong) == 0 {
			d.printf("%s", m)
			return nil
		}
		if time.Now().After(deadline) {
			d.printf("%s", m)
			return fmt.Errorf("demo: reachability still differs from the expected one after %s: %s", demoConvergeTimeout, strings.Join(wrong, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
