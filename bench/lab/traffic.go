package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/bench/internal/stats"
	"github.com/tricolor-net/tricolor/internal/lab"
)

// Ports inside the destination pods.
const (
	iperfPort = 5201
	rrPort    = 7001
)

// endpoint is a pod: its namespace and address.
type endpoint struct{ netns, ip string }

// side is one variant of a path: through Tricolor or the baseline.
type side struct{ src, dst endpoint }

// path is a pod pair measured both ways.
type path struct {
	name            string
	tricolor, plain side
}

// benchPaths pairs the lab's pods with the baseline's.
func benchPaths(cl *clusterLab, p *plainNet) []path {
	ep := func(name string) endpoint { return endpoint{netns: cl.pods[name].Netns, ip: cl.pods[name].IP} }
	mk := func(name, src, dst string) path {
		return path{name: name, tricolor: side{ep(src), ep(dst)}, plain: side{p.pod(src), p.pod(dst)}}
	}
	return []path{
		mk("same node", "a1", "a2"),
		mk("cross node, one subnet (BGP, no encapsulation)", "a1", "b"),
		mk("cross node, two subnets (VXLAN CrossSubnet)", "a1", "c"),
	}
}

// sideResult is what one variant of a path measured, over all rounds.
type sideResult struct {
	gbps        []float64       // iperf3 receiver throughput per round
	retransmits int             // iperf3 sender retransmits, all rounds
	rtts        []time.Duration // every round trip of every round
	rounds      [][]time.Duration
}

// last is a slice's last element.
func last[T any](s []T) T { return s[len(s)-1] }

// pathResult is one path's two variants, and each round's ratios
// Tricolor / raw: the two sides of a round run back to back, so pairing
// them cancels most of the drift of a shared machine.
type pathResult struct {
	name                  string
	tricolor, plain       sideResult
	tputRatios, rttRatios []float64 // per round: throughput, p50 round trip
}

// measureTraffic runs c.rounds rounds over every path; in each round both
// variants run back to back, the first one alternating between rounds so
// that drift on a shared machine hits both alike.
func measureTraffic(ctx context.Context, paths []path, c config, logf func(string, ...any)) ([]pathResult, error) {
	stop, err := startServers(ctx, paths)
	if err != nil {
		return nil, err
	}
	defer stop()
	res := make([]pathResult, len(paths))
	for i, p := range paths {
		res[i].name = p.name
	}
	for round := 0; round < c.rounds; round++ {
		for i, p := range paths {
			order := []struct {
				name string
				s    side
				r    *sideResult
			}{{"tricolor", p.tricolor, &res[i].tricolor}, {"baseline", p.plain, &res[i].plain}}
			if round%2 == 1 {
				order[0], order[1] = order[1], order[0]
			}
			for _, o := range order {
				gbps, retr, err := iperf(ctx, o.s, c.iperfSecs)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", p.name, o.name, err)
				}
				rtts, err := roundTrips(ctx, o.s, c.rtts)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", p.name, o.name, err)
				}
				o.r.gbps = append(o.r.gbps, gbps)
				o.r.retransmits += retr
				o.r.rtts = append(o.r.rtts, rtts...)
				o.r.rounds = append(o.r.rounds, rtts)
				logf("round %d, %s, %s: %.2f Gbit/s, round trip p50 %s", round+1, p.name, o.name, gbps, stats.Percentile(rtts, 50))
			}
			r := &res[i]
			r.tputRatios = append(r.tputRatios, last(r.tricolor.gbps)/last(r.plain.gbps))
			r.rttRatios = append(r.rttRatios, float64(stats.Percentile(last(r.tricolor.rounds), 50))/float64(stats.Percentile(last(r.plain.rounds), 50)))
		}
	}
	return res, nil
}

// startServers starts an iperf3 server and a TCP echo server in every
// destination pod; the returned function stops them.
func startServers(ctx context.Context, paths []path) (func(), error) {
	var cmds []*exec.Cmd
	var lns []net.Listener
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	seen := map[endpoint]bool{}
	for _, p := range paths {
		for _, dst := range []endpoint{p.tricolor.dst, p.plain.dst} {
			if seen[dst] {
				continue
			}
			seen[dst] = true
			c := exec.Command("ip", "netns", "exec", dst.netns, "iperf3", "-s", "-p", fmt.Sprint(iperfPort))
			if err := c.Start(); err != nil {
				stop()
				return nil, fmt.Errorf("start iperf3 server in %s: %w", dst.netns, err)
			}
			cmds = append(cmds, c)
			ln, err := lab.ListenIn(dst.netns, net.JoinHostPort(dst.ip, fmt.Sprint(rrPort)))
			if err != nil {
				stop()
				return nil, err
			}
			lns = append(lns, ln)
			go serveEcho(ln)
		}
	}
	for dst := range seen {
		if err := waitListening(ctx, dst, iperfPort); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// waitListening waits until a TCP port listens inside a pod (iperf3 takes
// a moment to start); it asks ss rather than connecting, which iperf3
// would count as a failed test.
func waitListening(ctx context.Context, dst endpoint, port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.CommandContext(ctx, "ip", "netns", "exec", dst.netns, "ss", "-Hltn", fmt.Sprintf("sport = :%d", port)).Output()
		if strings.TrimSpace(string(out)) != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("iperf3 server in %s does not listen on port %d after 10s", dst.netns, port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveEcho echoes every byte back on each accepted connection.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		}()
	}
}

// iperfReport is the part of `iperf3 -J` read here.
type iperfReport struct {
	Error string `json:"error"`
	End   struct {
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// iperf runs one iperf3 client test (one stream, 1 s warm-up omitted) and
// returns the receiver's throughput in Gbit/s and the sender's
// retransmits.
func iperf(ctx context.Context, s side, secs int) (float64, int, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", s.src.netns, "iperf3", "-c", s.dst.ip, "-p", fmt.Sprint(iperfPort),
		"-t", fmt.Sprint(secs), "-O", "1", "-J").Output()
	var rep iperfReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		return 0, 0, fmt.Errorf("iperf3 %s → %s: %v (output %q)", s.src.netns, s.dst.ip, errors.Join(err, jerr), out)
	}
	if rep.Error != "" || err != nil {
		return 0, 0, fmt.Errorf("iperf3 %s → %s: %v %s", s.src.netns, s.dst.ip, err, rep.Error)
	}
	return rep.End.SumReceived.BitsPerSecond / 1e9, rep.End.SumSent.Retransmits, nil
}

// rrWarmup round trips are made before timing starts.
const rrWarmup = 100

// roundTrips opens one TCP connection from the source pod to the echo
// server in the destination pod and times n 1-byte request/response round
// trips (after rrWarmup untimed ones).
func roundTrips(ctx context.Context, s side, n int) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := lab.DialIn(ctx, s.src.netns, "tcp", net.JoinHostPort(s.dst.ip, fmt.Sprint(rrPort)))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req, resp := []byte{'x'}, make([]byte, 1)
	out := make([]time.Duration, 0, n)
	for i := 0; i < rrWarmup+n; i++ {
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return nil, fmt.Errorf("round trip %s → %s: %w", s.src.netns, s.dst.ip, err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			return nil, fmt.Errorf("round trip %s → %s: %w", s.src.netns, s.dst.ip, err)
		}
		if i >= rrWarmup {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}
