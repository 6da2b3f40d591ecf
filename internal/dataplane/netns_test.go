package dataplane

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Network-namespace plumbing for the privileged tests. Everything happens in
// namespaces created here (iproute2's /run/netns/<name>) and deleted in
// t.Cleanup; nothing is added to the root namespace.

type netns struct{ name string }

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s creates network namespaces and nftables tables", t.Name())
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft binary (Debian package nftables)")
	}
}

func newNetns(t testing.TB, tag string) *netns {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	n := &netns{name: "tcdp-" + tag + "-" + hex.EncodeToString(b)}
	run(t, "ip", "netns", "add", n.name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.name).Run() })
	n.ip(t, "link", "set", "lo", "up")
	return n
}

func (n *netns) ip(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"-n", n.name}, args...)...)
}

func (n *netns) exec(t testing.TB, cmd string, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", n.name, cmd}, args...)...)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// do runs fn on an OS thread switched into the namespace, so sockets it
// opens and processes it starts (nft) live there. The thread is thrown away
// afterwards rather than switched back.
func (n *netns) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open("/run/netns/" + n.name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// pod is a workload namespace wired to the node as Calico's CNI does.
type pod struct {
	ns    *netns
	iface string // host-side veth in the node namespace
	ip    string
	ip6   string // "" without IPv6
}

// addr is the pod's address of the probe's family.
func (p *pod) addr(v6 bool) string {
	if v6 {
		return p.ip6
	}
	return p.ip
}

// wirePod creates a pod namespace wired with testutil.WireWorkloadAddrs:
// veth iface (node side, proxy ARP / proxy NDP, MAC ee:ee:ee:ee:ee:ee,
// /32 and /128 routes) ↔ eth0 (pod side, the addresses, 169.254.1.1 and
// the host veth's link-local address as gateways). ip6 may be "".
func wirePod(t *testing.T, node *netns, tag, iface, ip, ip6 string) *pod {
	t.Helper()
	p := &pod{ns: newNetns(t, tag), iface: iface, ip: ip, ip6: ip6}
	addrs := []string{ip}
	if ip6 != "" {
		addrs = append(addrs, ip6)
	}
	if err := testutil.WireWorkloadAddrs(node.testutil(), p.ns.testutil(), iface, addrs...); err != nil {
		t.Fatal(err)
	}
	return p
}

// testutil is the namespace as testutil's helpers take it.
func (n *netns) testutil() *testutil.Netns { return &testutil.Netns{Name: n.name} }

// Probes: TCP connect + echo, UDP echo, ICMP echo; over IPv4, or over
// IPv6 (ICMPv6 echo for icmp) when v6 is set.
type probe struct {
	proto string // tcp, udp, icmp
	port  int
	v6    bool
}

func (p probe) String() string {
	switch {
	case p.proto == "icmp" && p.v6:
		return "icmpv6"
	case p.proto == "icmp":
		return "icmp"
	case p.v6:
		return fmt.Sprintf("%s6/%d", p.proto, p.port)
	}
	return fmt.Sprintf("%s/%d", p.proto, p.port)
}

// probes are the IPv4 probes; probesV6 the same over IPv6.
var (
	probes   = []probe{{proto: "tcp", port: 80}, {proto: "tcp", port: 8080}, {proto: "udp", port: 53}, {proto: "icmp"}}
	probesV6 = over6(probes)
)

// over6 returns the probes sent over IPv6.
func over6(prs []probe) []probe {
	out := make([]probe, len(prs))
	for i, pr := range prs {
		out[i] = probe{proto: pr.proto, port: pr.port, v6: true}
	}
	return out
}

// probeTimeout bounds a probe that gets no answer (dropped traffic).
const probeTimeout = 400 * time.Millisecond

// serveEcho starts TCP and UDP echo servers for every probe (port and
// family) inside the pod namespace (closed in t.Cleanup).
func serveEcho(t *testing.T, p *pod, prs []probe) {
	t.Helper()
	for _, pr := range prs {
		fam := "4"
		if pr.v6 {
			fam = "6"
		}
		switch pr.proto {
		case "tcp":
			var l net.Listener
			if err := p.ns.do(func() (err error) { l, err = net.Listen("tcp"+fam, fmt.Sprintf(":%d", pr.port)); return }); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						buf := make([]byte, 64)
						for {
							_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
							n, err := c.Read(buf)
							if err != nil {
								return
							}
							if _, err := c.Write(buf[:n]); err != nil {
								return
							}
						}
					}()
				}
			}()
		case "udp":
			var pc net.PacketConn
			if err := p.ns.do(func() (err error) { pc, err = net.ListenPacket("udp"+fam, fmt.Sprintf(":%d", pr.port)); return }); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			go func() {
				buf := make([]byte, 64)
				for {
					n, addr, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					_, _ = pc.WriteTo(buf[:n], addr)
				}
			}()
		}
	}
}

// reach runs one probe from src to dst and reports whether it got an
// answer. A probe expected to succeed gets two more, slower tries before it
// counts as blocked (CI machines are loaded; a SYN or ARP can be slow), so
// only denied traffic is judged on one short probe — a retry can never turn
// blocked traffic into reachable.
func reach(src, dst *pod, pr probe) bool {
	return reachWithin(src, dst, pr, probeTimeout)
}

// reachExpected is reach for probes that should succeed: retried.
func reachExpected(src, dst *pod, pr probe) bool {
	for _, timeout := range []time.Duration{probeTimeout, 2 * time.Second, 5 * time.Second} {
		if reachWithin(src, dst, pr, timeout) {
			return true
		}
	}
	return false
}

func reachWithin(src, dst *pod, pr probe, timeout time.Duration) bool {
	ok := false
	fam, host := "4", dst.addr(pr.v6)
	if pr.v6 {
		fam = "6"
	}
	err := src.ns.do(func() error {
		deadline := time.Now().Add(timeout)
		switch pr.proto {
		case "tcp":
			c, err := net.DialTimeout("tcp"+fam, net.JoinHostPort(host, strconv.Itoa(pr.port)), timeout)
			if err != nil {
				return nil
			}
			defer c.Close()
			_ = c.SetDeadline(deadline)
			ok = echo(c)
		case "udp":
			c, err := net.Dial("udp"+fam, net.JoinHostPort(host, strconv.Itoa(pr.port)))
			if err != nil {
				return nil
			}
			defer c.Close()
			_ = c.SetDeadline(deadline)
			ok = echo(c)
		case "icmp":
			ok = ping(host, pr.v6, deadline)
		}
		return nil
	})
	return err == nil && ok
}

func echo(c net.Conn) bool {
	msg := []byte("tricolor")
	if _, err := c.Write(msg); err != nil {
		return false
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	return err == nil && string(buf[:n]) == string(msg)
}

var icmpSeq uint32
var icmpMu sync.Mutex

// ping sends one ICMP (ICMPv6 with v6) echo request over a raw socket and
// waits for the matching reply.
func ping(dst string, v6 bool, deadline time.Time) bool {
	network, laddr, request, reply := "ip4:icmp", "0.0.0.0", byte(8), byte(0)
	if v6 {
		network, laddr, request, reply = "ip6:ipv6-icmp", "::", 128, 129
	}
	c, err := net.ListenPacket(network, laddr)
	if err != nil {
		return false
	}
	defer c.Close()
	icmpMu.Lock()
	icmpSeq++
	// A fresh identifier per probe: conntrack keys ICMP echo flows by it,
	// and a reused one would ride an earlier case's established entry.
	id, seq := uint16(icmpSeq*7919+uint32(os.Getpid())), uint16(icmpSeq)
	icmpMu.Unlock()
	msg := []byte{request, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq), 't', 'c'}
	if !v6 { // the kernel computes ICMPv6 checksums (they cover the IPv6 pseudo-header)
		binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))
	}
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: net.ParseIP(dst)}); err != nil {
		return false
	}
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return false
		}
		if n >= 8 && buf[0] == reply && net.ParseIP(from.String()).Equal(net.ParseIP(dst)) &&
			binary.BigEndian.Uint16(buf[4:]) == id && binary.BigEndian.Uint16(buf[6:]) == seq {
			return true
		}
	}
}

func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// serveWhoami answers every TCP connection to port inside ns with the
// source address it sees and a newline (closed in t.Cleanup).
func serveWhoami(t *testing.T, ns *netns, port int) {
	t.Helper()
	var ln net.Listener
	if err := ns.do(func() (err error) { ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port)); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
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
}
