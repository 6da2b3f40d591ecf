package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100 is the 50th", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 1..100 is the 99th", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(3, 9, 1), 100, 9 * time.Millisecond},
		{"p50 of three is the middle", ms(30, 10, 20), 50, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

func TestMedianAndRatio(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := spread([]float64{1.2, 0.8, 1.05}); got != "0.80–1.20" {
		t.Errorf("spread = %q, want 0.80–1.20", got)
	}
	if got := ratio(1, 0); got != "n/a" {
		t.Errorf("ratio(1, 0) = %q, want n/a", got)
	}
	if got := ratio(1.42, 1.43); got != "0.99" {
		t.Errorf("ratio(1.42, 1.43) = %q, want 0.99", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := config{rounds: 5, iperfSecs: 2, rtts: 2000, pods: 100}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*config)
	}{
		{"no rounds", func(c *config) { c.rounds = 0 }},
		{"no iperf time", func(c *config) { c.iperfSecs = 0 }},
		{"too few round trips for p99", func(c *config) { c.rtts = 10 }},
		{"no pods", func(c *config) { c.pods = 0 }},
		{"more pods than a node's veths should take", func(c *config) { c.pods = 1000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			if err := c.validate(); err == nil {
				t.Errorf("config %+v accepted", c)
			}
		})
	}
}
