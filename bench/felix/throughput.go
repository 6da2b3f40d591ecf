package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pair is a client pod and a server pod.
type pair struct {
	name     string
	src, dst *pod
}

// throughput holds per-round samples for one pair.
type throughput struct {
	tcpGbps, udpKpps []float64
}

// iperfServer starts `iperf3 -s` in the pod; stop kills that process.
func iperfServer(p *pod) (stop func(), err error) {
	cmd := p.ns.Command("iperf3", "-s", "-1")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

// iperfResult is the part of `iperf3 -J` output we read.
type iperfResult struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
		Sum struct {
			Seconds     float64 `json:"seconds"`
			Packets     float64 `json:"packets"`
			LostPackets float64 `json:"lost_packets"`
		} `json:"sum"`
	} `json:"end"`
	Error string `json:"error"`
}

// iperf runs one client test from p.src to p.dst (a fresh one-shot server
// each time, so a failed run never leaves a busy server behind) and
// returns TCP Gbit/s received or UDP kpackets/s received.
func iperf(p pair, udp bool, secs int) (float64, error) {
	stop, err := iperfServer(p.dst)
	if err != nil {
		return 0, err
	}
	defer stop()
	args := []string{"-c", p.dst.ip, "-t", strconv.Itoa(secs), "-J"}
	if udp {
		args = append(args, "-u", "-l", "64", "-b", "0")
	}
	var out []byte
	var r iperfResult
	for try := 0; ; try++ {
		out, err = p.src.ns.Command("iperf3", args...).Output()
		r = iperfResult{}
		jerr := json.Unmarshal(out, &r)
		// The one-shot server may not be listening yet: refused, retry.
		if strings.Contains(r.Error, "refused") && try < 40 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if jerr != nil || r.Error != "" || err != nil {
			return 0, fmt.Errorf("iperf3 %s (%s): %v %s %s", strings.Join(args, " "), p.name, err, r.Error, out)
		}
		break
	}
	if udp {
		if r.End.Sum.Seconds == 0 {
			return 0, fmt.Errorf("iperf3 UDP (%s): no duration in %s", p.name, out)
		}
		return (r.End.Sum.Packets - r.End.Sum.LostPackets) / r.End.Sum.Seconds / 1000, nil
	}
	return r.End.SumReceived.BitsPerSecond / 1e9, nil
}

// measureThroughput runs TCP and UDP tests on both pairs, alternating
// which pair goes first each round so load changes hit both.
func measureThroughput(pairs [2]pair, rounds, secs int) ([2]throughput, error) {
	var res [2]throughput
	for r := range rounds {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			gbps, err := iperf(pairs[i], false, secs)
			if err != nil {
				return res, err
			}
			kpps, err := iperf(pairs[i], true, secs)
			if err != nil {
				return res, err
			}
			res[i].tcpGbps = append(res[i].tcpGbps, gbps)
			res[i].udpKpps = append(res[i].udpKpps, kpps)
		}
	}
	return res, nil
}
