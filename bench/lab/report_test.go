package main

import "testing"

func TestSpreadAndRatio(t *testing.T) {
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
