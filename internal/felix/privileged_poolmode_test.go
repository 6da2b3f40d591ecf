package felix

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedFelix_PoolVXLANModeChangesApplyLive runs one Felix (real
// nft and netlink, loop thread inside a node namespace) and changes the
// pool's vxlanMode Never → Always → CrossSubnet → Never while it runs:
// vxlan.calico and the block routes follow each change without a restart.
// node2 sits on this node's subnet (198.18.0.0/24), node3 on another.
func TestPrivilegedFelix_PoolVXLANModeChangesApplyLive(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft binary (Debian package nftables)")
	}
	ns := testutil.NewNetns(t, "fpool")
	peer := testutil.NewNetns(t, "fpoolp")
	testutil.Veth(t, ns, "eth0", peer, "eth0")
	ns.IP(t, "addr", "add", "198.18.0.11/24", "dev", "eth0")

	h := newHarness(t)
	h.apply(poolNode(thisNode, "198.18.0.11/24", "10.244.0.0", "66:00:00:00:00:01"))
	h.apply(poolNode("node2", "198.18.0.12/24", "10.244.1.0", "66:00:00:00:00:02"))
	h.apply(poolNode("node3", "198.18.1.13/24", "10.244.2.0", "66:00:00:00:00:03"))
	h.apply(poolBlock("10.244.0.0/26", thisNode))
	h.apply(poolBlock("10.244.1.0/26", "node2"))
	h.apply(poolBlock("10.244.2.0/26", "node3"))
	setMode := func(m v3.VXLANMode) {
		p := v3.NewIPPool()
		p.Name = "default-ipv4-ippool"
		p.Spec.CIDR, p.Spec.VXLANMode = "10.244.0.0/16", m
		h.apply(p)
	}
	setMode(v3.VXLANModeNever)
	runFelixIn(t, ns, New(h.config(func(c *Config) { c.NFT = nil })))

	toNode2 := "10.244.1.0/26 via 10.244.1.0 dev vxlan.calico onlink"
	toNode3 := "10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink"
	steps := []struct {
		mode   v3.VXLANMode
		device bool
		routes []string
	}{
		{v3.VXLANModeNever, false, nil},
		{v3.VXLANModeAlways, true, []string{toNode2, toNode3}},
		{v3.VXLANModeCrossSubnet, true, []string{toNode3}},
		{v3.VXLANModeAlways, true, []string{toNode2, toNode3}},
		{v3.VXLANModeNever, false, nil},
	}
	for _, s := range steps {
		start := time.Now()
		setMode(s.mode)
		var dev bool
		var routes []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			dev, routes = vxlanState(t, ns)
			if dev == s.device && slices.Equal(routes, s.routes) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("vxlanMode %s: after 10s device present=%v routes %q; want present=%v routes %q",
					s.mode, dev, routes, s.device, s.routes)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("vxlanMode %s applied live in %s", s.mode, time.Since(start).Round(time.Millisecond))
	}
}

// vxlanState reports whether vxlan.calico exists in ns and its proto-80
// routes, sorted.
func vxlanState(t *testing.T, ns *testutil.Netns) (bool, []string) {
	links := ns.IP(t, "-o", "link", "show")
	var routes []string
	for _, l := range strings.Split(strings.TrimSpace(ns.IP(t, "route", "show", "proto", "80")), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			routes = append(routes, l)
		}
	}
	slices.Sort(routes)
	return strings.Contains(links, " vxlan.calico:"), routes
}

func poolNode(name, ip, vtep, mac string) *v3.Node {
	n := v3.NewNode()
	n.Name = name
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: ip}
	n.Spec.IPv4VXLANTunnelAddr, n.Spec.VXLANTunnelMACAddr = vtep, mac
	return n
}

// poolBlock is an empty /26 affine to node.
func poolBlock(cidr, node string) *v3.IPAMBlock {
	b := v3.NewIPAMBlock()
	b.Name = strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
	aff := "host:" + node
	b.Spec.CIDR, b.Spec.Affinity = cidr, &aff
	b.Spec.Allocations = make([]*int, 64) // a /26, all free
	for i := range 64 {
		b.Spec.Unallocated = append(b.Spec.Unallocated, i)
	}
	return b
}
