package dataplane

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// TestPrivilegedNAT_OutgoingMasqueradesPoolTrafficLeavingThePools wires an
// "outside" namespace (198.18.0.2) to the node and asks it which source
// address a pod's connection arrives from: the node's (198.18.0.1) with
// natOutgoing on the pod's pool, the pod's own without.
func TestPrivilegedNAT_OutgoingMasqueradesPoolTrafficLeavingThePools(t *testing.T) {
	l := newLab(t)
	ext := newNetns(t, "ext")
	l.node.ip(t, "link", "add", "ext0", "type", "veth", "peer", "name", "eth0", "netns", ext.name)
	l.node.ip(t, "addr", "add", "198.18.0.1/24", "dev", "ext0")
	l.node.ip(t, "link", "set", "ext0", "up")
	ext.ip(t, "addr", "add", "198.18.0.2/24", "dev", "eth0")
	ext.ip(t, "link", "set", "eth0", "up")
	ext.ip(t, "route", "add", "10.244.0.0/16", "via", "198.18.0.1")

	// The outside server answers with the address it sees.
	var ln net.Listener
	if err := ext.do(func() (err error) { ln, err = net.Listen("tcp4", "198.18.0.2:7000"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_, _ = c.Write([]byte(host + "\n"))
			c.Close()
		}
	}()
	seenFrom := func() string {
		t.Helper()
		var got string
		if err := l.pods[0].ns.do(func() error {
			c, err := net.DialTimeout("tcp4", "198.18.0.2:7000", 3*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			got, err = bufio.NewReader(c).ReadString('\n')
			return err
		}); err != nil {
			t.Fatalf("pod0 to outside: %v", err)
		}
		return strings.TrimSpace(got)
	}

	pool := func(nat bool) *v3.IPPool {
		p := v3.NewIPPool()
		p.Name = "default-ipv4-ippool"
		p.Spec.CIDR, p.Spec.NATOutgoing, p.Spec.BlockSize = "10.244.0.0/16", nat, 26
		return p
	}
	for _, tc := range []struct {
		nat  bool
		want string
	}{{true, "198.18.0.1"}, {false, "10.244.0.10"}, {true, "198.18.0.1"}} {
		l.setObjects(t, pool(tc.nat))
		if got := seenFrom(); got != tc.want {
			t.Errorf("natOutgoing=%v: outside saw the connection from %s, want %s\n%s", tc.nat, got, tc.want, l.listTable(t))
		}
	}
	// Pod-to-pod traffic stays inside the pools: never masqueraded.
	l.assertMatrix(t, allowAll)
}
