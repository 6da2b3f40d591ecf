package testutil

import (
	"fmt"
	"strings"
	"time"
)

// WorkloadGateway is the next hop Calico's CNI plugin gives every pod: a
// link-local address nobody owns, answered by proxy ARP on the host side
// of the pod's veth.
const WorkloadGateway = "169.254.1.1"

// WireWorkload connects the pod namespace to the node namespace as
// Calico's CNI plugin does: a veth iface (node side: MAC
// ee:ee:ee:ee:ee:ee, proxy ARP without delay, a /32 route scope link to
// addr) ↔ eth0 (pod side: addr/32, a scope-link route to WorkloadGateway
// and the default route via it). It returns the first command that fails.
func WireWorkload(node, pod *Netns, iface, addr string) error {
	return WireWorkloadAddrs(node, pod, iface, addr)
}

// WireWorkloadAddrs is WireWorkload for a pod with any mix of IPv4 and
// IPv6 addresses (a dual-stack pod has one of each). IPv4 addresses are
// wired exactly as WireWorkload describes. IPv6 ones as the CNI plugin
// does (internal/cni SetupPod): on the node side IPv6 on, no duplicate
// address detection, proxy_ndp and forwarding on, a /128 route scope link;
// on the pod side IPv6 on, addr/128 without DAD, and the default route via
// the host veth's own link-local address (read back from the node, as the
// plugin does: the pod's IPv6 next hop is a real address, resolved by
// neighbour discovery).
func WireWorkloadAddrs(node, pod *Netns, iface string, addrs ...string) error {
	var v4, v6 []string
	for _, a := range addrs {
		if strings.Contains(a, ":") {
			v6 = append(v6, a)
		} else {
			v4 = append(v4, a)
		}
	}
	inNode := func(args ...string) []string { return append([]string{"ip", "-n", node.Name}, args...) }
	inPod := func(args ...string) []string { return append([]string{"ip", "-n", pod.Name}, args...) }
	sysctlIn := func(ns *Netns, settings ...string) []string {
		return append([]string{"ip", "netns", "exec", ns.Name, "sysctl", "-qw"}, settings...)
	}
	steps := [][]string{inNode("link", "add", iface, "address", "ee:ee:ee:ee:ee:ee", "type", "veth", "peer", "name", "eth0", "netns", pod.Name)}
	if len(v4) > 0 {
		steps = append(steps, sysctlIn(node, "net.ipv4.conf."+iface+".proxy_arp=1", "net.ipv4.neigh."+iface+".proxy_delay=0"))
	}
	if len(v6) > 0 {
		steps = append(steps,
			sysctlIn(node, "net.ipv6.conf."+iface+".disable_ipv6=0", "net.ipv6.conf."+iface+".accept_dad=0",
				"net.ipv6.conf."+iface+".proxy_ndp=1", "net.ipv6.conf."+iface+".forwarding=1"),
			sysctlIn(pod, "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
				"net.ipv6.conf.lo.disable_ipv6=0", "net.ipv6.conf.eth0.accept_dad=0"))
	}
	steps = append(steps, inNode("link", "set", iface, "up"))
	for _, a := range v4 {
		steps = append(steps, inNode("route", "add", a+"/32", "dev", iface, "scope", "link"))
	}
	for _, a := range v4 {
		steps = append(steps, inPod("addr", "add", a+"/32", "dev", "eth0"))
	}
	steps = append(steps, inPod("link", "set", "eth0", "up"))
	if len(v4) > 0 {
		steps = append(steps,
			inPod("route", "add", WorkloadGateway, "dev", "eth0", "scope", "link"),
			inPod("route", "add", "default", "via", WorkloadGateway, "dev", "eth0"))
	}
	if err := runSteps(steps); err != nil {
		return err
	}
	if len(v6) == 0 {
		return nil
	}
	// The host veth gets its link-local address once the pair has carrier
	// (both ends up).
	ll, err := linkLocal(node, iface)
	if err != nil {
		return err
	}
	steps = nil
	for _, a := range v6 {
		steps = append(steps, inPod("addr", "add", a+"/128", "dev", "eth0", "nodad"))
	}
	steps = append(steps, inPod("-6", "route", "add", "default", "via", ll, "dev", "eth0"))
	for _, a := range v6 {
		steps = append(steps, inNode("-6", "route", "add", a+"/128", "dev", iface, "scope", "link"))
	}
	return runSteps(steps)
}

// runSteps runs commands in order and returns the first failure.
func runSteps(steps [][]string) error {
	for _, s := range steps {
		if _, err := Run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// linkLocal waits (up to 2s, the CNI plugin's bound) for iface's usable
// IPv6 link-local address inside ns and returns it.
func linkLocal(ns *Netns, iface string) (string, error) {
	deadline := time.Now().Add(2 * time.Second)
	for {
		out, err := Run("ip", "-n", ns.Name, "-6", "-o", "addr", "show", "dev", iface, "scope", "link")
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "inet6" && !strings.Contains(line, "tentative") {
					return strings.SplitN(f[i+1], "/", 2)[0], nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s in %s has no usable IPv6 link-local address after 2s (is IPv6 disabled?): the pod's IPv6 default route needs it", iface, ns.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PrepareWorkloadNode readies a node namespace for WireWorkload pods:
// IPv4 forwarding on, and a default route out of a veth pair that stays
// inside the namespace ("uplink" ↔ "uplink-peer"). Proxy ARP answers for
// WorkloadGateway only when the node has a route to it through another
// interface — a real host's default route; the dummy module is not in
// every kernel, a veth pair is.
func PrepareWorkloadNode(node *Netns) error {
	steps := [][]string{
		{"ip", "netns", "exec", node.Name, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{"ip", "-n", node.Name, "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer"},
		{"ip", "-n", node.Name, "link", "set", "uplink-peer", "up"},
		{"ip", "-n", node.Name, "link", "set", "uplink", "up"},
		{"ip", "-n", node.Name, "route", "add", "default", "dev", "uplink"},
	}
	return runSteps(steps)
}
