package ipam

import (
	"net/netip"
	"testing"
)

func TestNames_MatchCalico(t *testing.T) {
	cases := []struct{ got, want string }{
		{blockName(mustPrefix("10.244.1.64/26")), "10-244-1-64-26"},
		{blockName(mustPrefix("fd00:10:244::/122")), "fd00-10-244---122"},
		{affinityName("node-1", mustPrefix("10.244.1.64/26")), "node-1-10-244-1-64-26"},
		{handleName("k8s-pod-network.ABC"), "k8s-pod-network.abc"},
		{TunnelHandle("vxlan", "node-1"), "vxlan-tunnel-addr-node-1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	long := affinityName(string(make([]byte, 260)), mustPrefix("10.0.0.0/26"))
	if len(long) > 253 {
		t.Errorf("long affinity name has %d characters; want at most 253", len(long))
	}
}

func TestOrdinals_RoundTrip(t *testing.T) {
	for _, b := range []netip.Prefix{mustPrefix("10.0.1.0/26"), mustPrefix("fd00::1:0/122")} {
		for o := 0; o < blockLen(b); o++ {
			a := addrAt(b, o)
			got, err := ordinalOf(b, a)
			if err != nil || got != o {
				t.Fatalf("block %s ordinal %d → %s → %d, %v", b, o, a, got, err)
			}
		}
		if _, err := ordinalOf(b, mustAddr("192.0.2.1")); err == nil {
			t.Errorf("ordinalOf(%s, outside) succeeded; want an error", b)
		}
	}
}

func TestBlockGenerator_VisitsEveryBlockOnce(t *testing.T) {
	g := newBlockGenerator(mustPrefix("10.0.0.0/22"), 26, "node-a")
	seen := map[netip.Prefix]bool{}
	for p, ok := g.next(); ok; p, ok = g.next() {
		if seen[p] || !mustPrefix("10.0.0.0/22").Contains(p.Addr()) || p.Bits() != 26 {
			t.Fatalf("bad or repeated block %s", p)
		}
		seen[p] = true
	}
	if len(seen) != 16 {
		t.Fatalf("visited %d blocks; want 16", len(seen))
	}
	a, _ := newBlockGenerator(mustPrefix("10.0.0.0/16"), 26, "node-a").next()
	b, _ := newBlockGenerator(mustPrefix("10.0.0.0/16"), 26, "node-a").next()
	if a != b {
		t.Errorf("same node started at %s and %s; want a stable start", a, b)
	}
}
