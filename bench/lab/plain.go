package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// The baseline: the lab's shapes built by hand with no Tricolor in the
// path. A fabric namespace with one bridge per subnet routing between
// them; nodes n1 and n2 on subnet 1, n3 on subnet 2; pods wired as the
// Calico CNI plugin wires them (eth0 /32, default via 169.254.1.1,
// host-side veth with proxy ARP and a /32 route). n1↔n2 pods are routed by
// static routes via the peer node (what BGP installs in the lab); n1↔n3
// pods go over a vxlan device with static ARP and FDB entries (what Felix
// installs). Addresses differ from the lab's (198.19.x, 10.245.x) only so
// that the two are never confused; the namespaces are isolated anyway.

// plainNode is a baseline node.
type plainNode struct {
	name, subnet, addr string // subnet is the bridge, addr the eth0 address
	block              string // the node's pod block
	tunnel, vtepMAC    string // VXLAN tunnel address and MAC, when the node has a vxlan device
}

// plainPod is a baseline pod.
type plainPod struct{ name, node, ip string }

var (
	plainSubnets = []struct{ bridge, gw string }{{"br1", "198.19.1.1/24"}, {"br2", "198.19.2.1/24"}}
	plainNodes   = []plainNode{
		{name: "n1", subnet: "br1", addr: "198.19.1.2", block: "10.245.1.0/26", tunnel: "10.245.1.0", vtepMAC: "02:62:65:6e:63:01"},
		{name: "n2", subnet: "br1", addr: "198.19.1.3", block: "10.245.2.0/26"},
		{name: "n3", subnet: "br2", addr: "198.19.2.2", block: "10.245.3.0/26", tunnel: "10.245.3.0", vtepMAC: "02:62:65:6e:63:03"},
	}
	// plainPods mirror benchPods, node for node.
	plainPods = []plainPod{{"a1", "n1", "10.245.1.1"}, {"a2", "n1", "10.245.1.2"}, {"b", "n2", "10.245.2.1"}, {"c", "n3", "10.245.3.1"}}
)

// plainVXLANDev is the baseline's vxlan device (VNI 4096, port 4789 as
// Calico's vxlan.calico).
const plainVXLANDev = "vxlan.plain"

// plainNet is the built baseline.
type plainNet struct {
	prefix string   // namespace prefix, tcbench-<pid>
	made   []string // namespaces created, removed by down
}

// ns is the full name of a baseline namespace.
func (p *plainNet) ns(name string) string { return p.prefix + "-" + name }

// pod returns a baseline pod's namespace and address.
func (p *plainNet) pod(name string) endpoint {
	for _, q := range plainPods {
		if q.name == name {
			return endpoint{netns: p.ns("pod-" + q.name), ip: q.ip}
		}
	}
	panic("bench/lab: no baseline pod " + name)
}

// upPlain builds the baseline with the lab's MTUs; on failure it removes
// what it made.
func upPlain(ctx context.Context, m mtus) (*plainNet, error) {
	p := &plainNet{prefix: fmt.Sprintf("tcbench-%d", os.Getpid())}
	if err := p.build(ctx, m); err != nil {
		p.down()
		return nil, fmt.Errorf("baseline topology: %w", err)
	}
	return p, nil
}

func (p *plainNet) build(ctx context.Context, m mtus) error {
	fabric := p.ns("fabric")
	if err := p.addNetns(ctx, fabric); err != nil {
		return err
	}
	r := runner{ctx: ctx}
	r.sysctl(fabric, "net.ipv4.ip_forward=1")
	for _, s := range plainSubnets {
		r.ip(fabric, "link", "add", s.bridge, "type", "bridge")
		r.ip(fabric, "addr", "add", s.gw, "dev", s.bridge)
		r.ip(fabric, "link", "set", s.bridge, "up")
	}
	if r.err != nil {
		return r.err
	}
	nodes := map[string]plainNode{}
	for _, n := range plainNodes {
		nodes[n.name] = n
		node := p.ns(n.name)
		if err := p.addNetns(ctx, node); err != nil {
			return err
		}
		gw := ""
		for _, s := range plainSubnets {
			if s.bridge == n.subnet {
				gw = strings.Split(s.gw, "/")[0]
			}
		}
		r.ip(fabric, "link", "add", n.name, "type", "veth", "peer", "name", "eth0", "netns", node)
		r.ip(fabric, "link", "set", n.name, "master", n.subnet, "up")
		r.ip(node, "addr", "add", n.addr+"/24", "dev", "eth0")
		r.ip(node, "link", "set", "eth0", "up")
		r.ip(node, "route", "add", "default", "via", gw)
		r.sysctl(node, "net.ipv4.ip_forward=1")
		if r.err != nil {
			return r.err
		}
	}
	for i, q := range plainPods {
		pod := p.ns("pod-" + q.name)
		if err := p.addNetns(ctx, pod); err != nil {
			return err
		}
		node, host := p.ns(q.node), fmt.Sprintf("bench%d", i)
		mtu := fmt.Sprint(m.pod)
		r.ip(node, "link", "add", host, "mtu", mtu, "type", "veth", "peer", "name", "eth0", "mtu", mtu, "netns", pod)
		r.ip(node, "link", "set", host, "address", "ee:ee:ee:ee:ee:ee", "up")
		r.sysctl(node, "net.ipv4.conf."+host+".proxy_arp=1")
		r.sysctl(node, "net.ipv4.neigh."+host+".proxy_delay=0")
		r.ip(node, "route", "add", q.ip+"/32", "dev", host, "scope", "link")
		r.ip(pod, "addr", "add", q.ip+"/32", "dev", "eth0")
		r.ip(pod, "link", "set", "eth0", "up")
		r.ip(pod, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
		r.ip(pod, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
		if r.err != nil {
			return r.err
		}
	}
	// Same subnet: routes via the peer node, as BGP installs them.
	n1, n2, n3 := nodes["n1"], nodes["n2"], nodes["n3"]
	r.ip(p.ns("n1"), "route", "add", n2.block, "via", n2.addr, "dev", "eth0")
	r.ip(p.ns("n2"), "route", "add", n1.block, "via", n1.addr, "dev", "eth0")
	// Across subnets: VXLAN with static neighbours, as Felix programs them.
	for _, pair := range [][2]plainNode{{n1, n3}, {n3, n1}} {
		self, peer := pair[0], pair[1]
		node := p.ns(self.name)
		r.ip(node, "link", "add", plainVXLANDev, "type", "vxlan", "id", "4096", "local", self.addr, "dev", "eth0", "dstport", "4789", "nolearning")
		r.ip(node, "link", "set", plainVXLANDev, "mtu", fmt.Sprint(m.vxlan), "address", self.vtepMAC, "up")
		r.ip(node, "addr", "add", self.tunnel+"/32", "dev", plainVXLANDev)
		r.ip(node, "neigh", "add", peer.tunnel, "lladdr", peer.vtepMAC, "dev", plainVXLANDev, "nud", "permanent")
		r.run(node, "bridge", "fdb", "add", peer.vtepMAC, "dev", plainVXLANDev, "dst", peer.addr, "self", "permanent")
		r.ip(node, "route", "add", peer.block, "via", peer.tunnel, "dev", plainVXLANDev, "onlink")
	}
	return r.err
}

// addNetns creates a namespace with its loopback up and records it.
func (p *plainNet) addNetns(ctx context.Context, name string) error {
	if out, err := exec.CommandContext(ctx, "ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	p.made = append(p.made, name)
	r := runner{ctx: ctx}
	r.ip(name, "link", "set", "lo", "up")
	return r.err
}

// down kills what runs in the baseline's namespaces (the iperf3 servers
// this program started) and deletes them.
func (p *plainNet) down() {
	for _, name := range p.made {
		out, _ := exec.Command("ip", "netns", "pids", name).Output()
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	for i := len(p.made) - 1; i >= 0; i-- {
		if out, err := exec.Command("ip", "netns", "del", p.made[i]).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench/lab: ip netns del %s: %v: %s\n", p.made[i], err, out)
		}
	}
	p.made = nil
}

// runner runs commands inside namespaces until the first error, which it
// keeps (so a build reads as a list of steps).
type runner struct {
	ctx context.Context
	err error
}

// ip runs `ip -n netns args…`.
func (r *runner) ip(netns string, args ...string) {
	if r.err != nil {
		return
	}
	if out, err := exec.CommandContext(r.ctx, "ip", append([]string{"-n", netns}, args...)...).CombinedOutput(); err != nil {
		r.err = fmt.Errorf("ip -n %s %s: %v: %s", netns, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// run runs a program inside a namespace (`ip netns exec`).
func (r *runner) run(netns, name string, args ...string) {
	if r.err != nil {
		return
	}
	argv := append([]string{"netns", "exec", netns, name}, args...)
	if out, err := exec.CommandContext(r.ctx, "ip", argv...).CombinedOutput(); err != nil {
		r.err = fmt.Errorf("in %s: %s %s: %v: %s", netns, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// sysctl sets a sysctl inside a namespace.
func (r *runner) sysctl(netns, kv string) { r.run(netns, "sysctl", "-q", "-w", kv) }
