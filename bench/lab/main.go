// Command lab measures pod networking on a calico-lab cluster against raw
// veth routing without Tricolor, in the same run:
//
//   - TCP throughput (iperf3) and TCP request/response latency (1-byte
//     round trips over one connection, Go client and echo server with
//     their sockets inside the pod namespaces) for three paths: pods on one
//     node; pods on two nodes of one subnet (BGP routes, no encapsulation);
//     pods on nodes of two subnets (VXLAN CrossSubnet). The baseline is a
//     plain topology of the same shape built by hand next to the lab: same
//     namespaces layout, veths, MTUs, proxy ARP, static routes and a plain
//     vxlan device with static FDB/ARP entries, but no nftables, no
//     calico-node, no BGP daemon. Rounds alternate which side goes first;
//     figures are medians.
//   - Pod-ready time for N pods created back to back through the lab (real
//     CNI plugin via libcni): from the start of the pod's creation until a
//     TCP connection from an existing pod, allowed by a NetworkPolicy,
//     first succeeds — so calico-node's Felix must have programmed the new
//     endpoint and its policy (an unknown workload interface is dropped).
//     The baseline is the CNI ADD itself (creation returning).
//
// Everything happens in network namespaces the program creates and
// removes; it needs root.
//
//	go run ./bench/lab -out /tmp/lab.md
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config holds the command-line settings.
type config struct {
	binDir    string
	rounds    int
	iperfSecs int
	rtts      int
	pods      int
	out       string
}

func main() {
	var c config
	flag.StringVar(&c.binDir, "bin-dir", "", "directory with calico-lab, calico-node and calico (default: build them into a temporary directory)")
	flag.IntVar(&c.rounds, "rounds", 3, "interleaved rounds (Tricolor, then baseline, alternating the order) per path")
	flag.IntVar(&c.iperfSecs, "iperf-seconds", 3, "iperf3 duration per measurement (after 1 s of warm-up that is not counted)")
	flag.IntVar(&c.rtts, "rtts", 2000, "TCP request/response round trips per measurement")
	flag.IntVar(&c.pods, "pods", 100, "pods created for the pod-ready measurement")
	flag.StringVar(&c.out, "out", "", "write the markdown fragment here")
	flag.Parse()
	if err := c.validate(); err != nil {
		log.Fatal(err)
	}
	if os.Geteuid() != 0 {
		log.Fatal("bench/lab needs root: it creates network namespaces, veths and bridges")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	md, err := run(ctx, c)
	if err != nil {
		stop()
		log.Fatal(err)
	}
	fmt.Print(md)
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// validate rejects settings that cannot give a figure.
func (c config) validate() error {
	switch {
	case c.rounds < 1:
		return fmt.Errorf("-rounds %d: give at least 1", c.rounds)
	case c.iperfSecs < 1:
		return fmt.Errorf("-iperf-seconds %d: give at least 1", c.iperfSecs)
	case c.rtts < 100:
		return fmt.Errorf("-rtts %d: give at least 100 (p99 needs them)", c.rtts)
	case c.pods < 1 || c.pods > 250:
		return fmt.Errorf("-pods %d: give between 1 and 250", c.pods)
	}
	return nil
}

// run brings up the lab and the baseline, measures, tears both down and
// returns the markdown.
func run(ctx context.Context, c config) (string, error) {
	start, loadStart := time.Now(), loadAvg()
	logf := func(format string, a ...any) {
		log.Printf("[%5.1fs] %s", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	bins, cleanBins, err := binaries(ctx, c.binDir)
	if err != nil {
		return "", err
	}
	defer cleanBins()

	cl, err := upClusterLab(ctx, bins, logf)
	if err != nil {
		return "", err
	}
	defer cl.down()
	plain, err := upPlain(ctx, cl.mtus)
	if err != nil {
		return "", err
	}
	defer plain.down()
	logf("baseline: plain topology in %s-*", plain.prefix)

	paths := benchPaths(cl, plain)
	tr, err := measureTraffic(ctx, paths, c, logf)
	if err != nil {
		return "", err
	}
	ready, err := measurePodReady(ctx, cl, c.pods, logf)
	if err != nil {
		return "", err
	}
	logf("done")
	return markdown(c, cl.mtus, tr, ready, runInfo{took: time.Since(start), loadStart: loadStart, loadEnd: loadAvg()}), nil
}
