package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tricolor-net/tricolor/internal/lab"
)

// globals are the flags every command shares.
type globals struct {
	runRoot string
	runID   string
}

// exitError carries a child's exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run builds the command tree and returns the process exit code.
func run(args []string) int {
	g := &globals{}
	root := &cobra.Command{
		Use:           "calico-lab",
		Short:         "Clusters of network namespaces running Tricolor, on one machine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.runRoot, "run-root", "", "directory holding lab runs (default $"+lab.EnvRunRoot+" or "+lab.DefaultRunRoot+")")
	root.PersistentFlags().StringVar(&g.runID, "id", "", "run ID of the lab (default: the only lab that is up)")
	root.AddCommand(upCmd(g), downCmd(g), statusCmd(g), podsCmd(g), podCmd(g), execCmd(g), pingCmd(g),
		probeCmd(g), calicoctlCmd(g), nodeCmd(g), datastoreCmd(g), listCmd(g), demoCmd(g), serveEtcdCmd())
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		fmt.Fprintln(os.Stderr, "calico-lab:", err)
		return 1
	}
	return 0
}

func (g *globals) open() (*lab.Lab, error) {
	return lab.Open(lab.Options{RunRoot: g.runRoot, RunID: g.runID})
}

func upCmd(g *globals) *cobra.Command {
	var (
		file, binDir, backend, vxlan, ipip, poolCIDR, pool6CIDR, datastore, nodeIP string
		nodes, subnets, blockSize                                                  int
		keep, ipv6                                                                 bool
	)
	c := &cobra.Command{
		Use:   "up [-f topology.yaml | --nodes N --subnets M]",
		Short: "Build a lab: fabric, datastore, calico-node per node, pods",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				topo *lab.Topology
				err  error
			)
			if file != "" {
				if topo, err = lab.LoadTopology(file); err != nil {
					return err
				}
			} else if topo, err = lab.FlagTopology(nodes, subnets); err != nil {
				return err
			}
			// Flags given explicitly override the file.
			set := func(name string, dst *string, v string) {
				if cmd.Flags().Changed(name) {
					*dst = v
				}
			}
			set("backend", &topo.Backend, backend)
			set("vxlan", &topo.Pool.VXLANMode, vxlan)
			set("ipip", &topo.Pool.IPIPMode, ipip)
			set("pool-cidr", &topo.Pool.CIDR, poolCIDR)
			set("datastore", &topo.Datastore, datastore)
			set("node-ip", &topo.NodeIP, nodeIP)
			if cmd.Flags().Changed("block-size") {
				topo.Pool.BlockSize = blockSize
			}
			if cmd.Flags().Changed("ipv6") {
				topo.IPv6 = ipv6
			}
			set("pool6-cidr", &topo.Pool6.CIDR, pool6CIDR)
			bins, err := lab.FindBinaries(binDir)
			if err != nil {
				return err
			}
			start := time.Now()
			l, err := lab.Up(cmd.Context(), topo, lab.Options{RunRoot: g.runRoot, RunID: g.runID, Bins: bins, KeepOnFailure: keep,
				Progress: func(s string) { fmt.Printf("[%5.1fs] %s\n", time.Since(start).Seconds(), s) }})
			if err != nil {
				return err
			}
			fmt.Printf("[%5.1fs] lab %s is up; state in %s\n", time.Since(start).Seconds(), l.RunID(), l.Dir())
			fmt.Printf("next: calico-lab pod add web --node %s --labels app=web; calico-lab matrix; calico-lab down --id %s\n", topo.Nodes[0].Name, l.RunID())
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&file, "file", "f", "", "topology file (YAML)")
	f.IntVar(&nodes, "nodes", 2, "number of nodes (without -f)")
	f.IntVar(&subnets, "subnets", 1, "number of L2 subnets, 198.18.1.0/24 and up, routed by the fabric (without -f)")
	f.StringVar(&backend, "backend", lab.DefaultBackend, "CALICO_NETWORKING_BACKEND: bird, vxlan or none")
	f.StringVar(&vxlan, "vxlan", lab.DefaultVXLANMode, "CALICO_IPV4POOL_VXLAN: Always, CrossSubnet or Never")
	f.StringVar(&ipip, "ipip", lab.DefaultIPIPMode, "CALICO_IPV4POOL_IPIP: Always, CrossSubnet or Never")
	f.StringVar(&poolCIDR, "pool-cidr", lab.DefaultPoolCIDR, "CALICO_IPV4POOL_CIDR")
	f.IntVar(&blockSize, "block-size", 26, "CALICO_IPV4POOL_BLOCK_SIZE")
	f.BoolVar(&ipv6, "ipv6", false, "dual stack: IPv6 on the fabric ("+lab.FabricRange6+"), IP6 and an IPv6 pool for calico-node, FELIX_IPV6SUPPORT=true, pods with IPv4 and IPv6 addresses")
	f.StringVar(&pool6CIDR, "pool6-cidr", lab.DefaultPool6CIDR, "CALICO_IPV6POOL_CIDR (with --ipv6)")
	f.StringVar(&datastore, "datastore", lab.DatastoreEmbedded, "embedded (etcd inside calico-lab) or external (Debian's etcd)")
	f.StringVar(&nodeIP, "node-ip", lab.NodeIPAutodetect, "autodetect (calico-node finds it) or explicit (IP=<addr>/<len>)")
	f.StringVar(&binDir, "bin-dir", "", "directory with calico-node, calico and calicoctl (default: next to calico-lab, then PATH)")
	f.BoolVar(&keep, "keep-on-failure", false, "leave a half-built lab in place when up fails")
	return c
}

func downCmd(g *globals) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "down [--id X | --all]",
		Short: "Remove everything a lab made (processes, namespaces, state), even after a crash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				return lab.DownAll(cmd.Context(), g.runRoot)
			}
			id := g.runID
			if id == "" {
				ids, err := lab.ListRuns(lab.ResolveRunRoot(g.runRoot))
				if err != nil {
					return err
				}
				switch len(ids) {
				case 0:
					fmt.Println("no lab is up")
					return nil
				case 1:
					id = ids[0]
				default:
					return fmt.Errorf("several labs are up (%v); choose one with --id or use --all", ids)
				}
			}
			if err := lab.Down(cmd.Context(), g.runRoot, id); err != nil {
				return err
			}
			fmt.Printf("lab %s removed\n", id)
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "remove every lab (every run directory and every lab-<id>-* namespace)")
	return c
}

func statusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the lab's nodes, processes and datastore registration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			s, err := l.Status(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Print(s.String())
			return nil
		},
	}
}

func podsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pods",
		Short: "List the lab's pods",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			fmt.Print(lab.PodTable(l.Pods()))
			return nil
		},
	}
}

func podCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "pod", Short: "Create or delete pods (through the calico CNI plugin)"}
	var (
		node, namespace string
		labels          []string
	)
	add := &cobra.Command{
		Use:   "add <name> --node <node> [--namespace ns] [--labels k=v,…]",
		Short: "Create a pod on a node",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			lbl, err := lab.ParseLabels(labels)
			if err != nil {
				return err
			}
			if node == "" {
				return errors.New("pod add: --node is required")
			}
			p, err := l.AddPod(cmd.Context(), lab.PodSpec{Name: args[0], Namespace: namespace, Node: node, Labels: lbl})
			if err != nil {
				return err
			}
			fmt.Printf("pod %s on %s: %s (%s)\n", p.Key(), p.Node, strings.TrimSpace(p.IP+" "+p.IP6), p.HostIface)
			return nil
		},
	}
	add.Flags().StringVar(&node, "node", "", "node to run the pod on")
	add.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	add.Flags().StringSliceVarP(&labels, "labels", "l", nil, "labels, k=v (repeat or comma-separate)")
	del := &cobra.Command{
		Use:   "del <pod>",
		Short: "Delete a pod (name or namespace/name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			if err := l.DelPod(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Printf("pod %s deleted\n", args[0])
			return nil
		},
	}
	c.AddCommand(add, del)
	return c
}

func execCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exec <pod> -- cmd…",
		Short: "Run a command inside a pod's network namespace",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			c, err := l.Command(cmd.Context(), args[0], args[1:]...)
			if err != nil {
				return err
			}
			return runAttached(c)
		},
	}
}

func pingCmd(g *globals) *cobra.Command {
	var (
		timeout time.Duration
		ipv6    bool
	)
	c := &cobra.Command{
		Use:   "ping <podA> <podB>",
		Short: "Send one ICMP echo from podA to podB",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			ping := l.Ping
			if ipv6 {
				ping = l.Ping6
			}
			if err := ping(cmd.Context(), args[0], args[1], timeout); err != nil {
				return err
			}
			fmt.Printf("%s -> %s: ok\n", args[0], args[1])
			return nil
		},
	}
	c.Flags().DurationVar(&timeout, "timeout", time.Second, "how long to wait for the reply")
	c.Flags().BoolVarP(&ipv6, "ipv6", "6", false, "ping podB's IPv6 address (ICMPv6; dual-stack lab)")
	return c
}

func probeCmd(g *globals) *cobra.Command {
	var o lab.MatrixOptions
	c := &cobra.Command{
		Use:     "probe",
		Aliases: []string{"matrix"},
		Short:   "Probe every ordered pair of pods (ICMP, TCP or UDP) and print the reachability table",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			m, err := l.Matrix(cmd.Context(), o)
			if err != nil {
				return err
			}
			proto := m.Proto
			if m.IPv6 {
				proto += " over IPv6"
			}
			fmt.Printf("reachability (%s; ok = reached, -- = not)\n%s", proto, m.String())
			return nil
		},
	}
	c.Flags().StringVar(&o.Proto, "proto", lab.ProtoICMP, "icmp, tcp or udp")
	c.Flags().IntVar(&o.Port, "port", 8080, "TCP/UDP port (the lab listens on it in every pod while probing)")
	c.Flags().DurationVar(&o.Timeout, "timeout", time.Second, "timeout per probe")
	c.Flags().BoolVarP(&o.IPv6, "ipv6", "6", false, "probe the pods' IPv6 addresses (dual-stack lab)")
	return c
}

func calicoctlCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:                "calicoctl -- <calicoctl args>",
		Aliases:            []string{"ctl"},
		Short:              "Run calicoctl against the lab's datastore (inside the fabric namespace)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flag parsing is off so calicoctl's own flags pass through;
			// our global flags may still come before "--".
			args = takeGlobalFlags(g, args)
			l, err := g.open()
			if err != nil {
				return err
			}
			c, err := l.CalicoctlCommand(cmd.Context(), args...)
			if err != nil {
				return err
			}
			return runAttached(c)
		},
	}
}

func nodeCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "node", Short: "Stop, start or restart a node's calico-node (its namespace and pods stay), or show its BGP status"}
	c.AddCommand(&cobra.Command{
		Use:   "status <node>",
		Short: "calicoctl node status for one node (its BGP peers)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			ctl, err := l.NodeStatusCommand(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			ctl.Stdout, ctl.Stderr = os.Stdout, os.Stderr
			return ctl.Run()
		},
	})
	for _, verb := range []string{"stop", "start", "restart"} {
		c.AddCommand(&cobra.Command{
			Use:   verb + " <node>",
			Short: verb + " calico-node on a node",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				l, err := g.open()
				if err != nil {
					return err
				}
				if verb != "start" {
					if err := l.StopNode(cmd.Context(), args[0]); err != nil {
						return err
					}
				}
				if verb != "stop" {
					if err := l.StartNode(cmd.Context(), args[0]); err != nil {
						return err
					}
				}
				fmt.Printf("calico-node on %s: %s\n", args[0], map[string]string{"stop": "stopped", "start": "started", "restart": "restarted"}[verb])
				return nil
			},
		})
	}
	return c
}

func datastoreCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "datastore", Short: "Stop or start the lab's etcd (its data stays)"}
	for _, verb := range []string{"stop", "start"} {
		c.AddCommand(&cobra.Command{
			Use:   verb,
			Short: verb + " the lab's etcd",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				l, err := g.open()
				if err != nil {
					return err
				}
				if verb == "stop" {
					err = l.StopDatastore(cmd.Context())
				} else {
					err = l.StartDatastore(cmd.Context())
				}
				if err != nil {
					return err
				}
				fmt.Printf("datastore: %s done\n", verb)
				return nil
			},
		})
	}
	return c
}

func listCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the labs that are up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := lab.ResolveRunRoot(g.runRoot)
			ids, err := lab.ListRuns(root)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				fmt.Println("no lab is up")
				return nil
			}
			for _, id := range ids {
				l, err := lab.Open(lab.Options{RunRoot: root, RunID: id})
				if err != nil {
					fmt.Printf("%s\t(unreadable: %v)\n", id, err)
					continue
				}
				st := l.State()
				fmt.Printf("%s\t%d node(s)\t%d pod(s)\tup since %s\n", id, len(st.Topology.Nodes), len(st.Pods), st.Created.Format(time.RFC3339))
			}
			return nil
		},
	}
}

func serveEtcdCmd() *cobra.Command {
	var cfg lab.ServeEtcdConfig
	c := &cobra.Command{
		Use:    "serve-etcd",
		Short:  "Serve the lab's embedded etcd (run by `up` inside the fabric namespace)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
			return lab.ServeEtcd(cmd.Context(), cfg)
		},
	}
	c.Flags().StringVar(&cfg.DataDir, "data-dir", "", "etcd data directory")
	c.Flags().StringVar(&cfg.Listen, "listen", fmt.Sprintf("%s:%d", lab.EtcdAddr, lab.EtcdPort), "address the nodes reach the datastore on")
	c.Flags().IntVar(&cfg.LoopbackPort, "loopback-port", lab.EtcdPort, "embedded etcd's port on the namespace's loopback")
	return c
}

// runAttached runs a command on our terminal and passes its exit code on.
func runAttached(c *exec.Cmd) error {
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{code: ee.ExitCode()}
	}
	return err
}

// takeGlobalFlags consumes --id and --run-root (as "--f v" or "--f=v")
// from the front of args, up to and including a "--", and returns the rest.
func takeGlobalFlags(g *globals, args []string) []string {
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return args[1:]
		}
		name, val, hasVal := strings.Cut(a, "=")
		var dst *string
		switch name {
		case "--id":
			dst = &g.runID
		case "--run-root":
			dst = &g.runRoot
		default:
			return args
		}
		if hasVal {
			*dst, args = val, args[1:]
		} else if len(args) > 1 {
			*dst, args = args[1], args[2:]
		} else {
			return args
		}
	}
	return args
}
