package testutil

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
	steps := [][]string{
		{"ip", "-n", node.Name, "link", "add", iface, "address", "ee:ee:ee:ee:ee:ee", "type", "veth", "peer", "name", "eth0", "netns", pod.Name},
		{"ip", "netns", "exec", node.Name, "sysctl", "-qw", "net.ipv4.conf." + iface + ".proxy_arp=1", "net.ipv4.neigh." + iface + ".proxy_delay=0"},
		{"ip", "-n", node.Name, "link", "set", iface, "up"},
		{"ip", "-n", node.Name, "route", "add", addr + "/32", "dev", iface, "scope", "link"},
		{"ip", "-n", pod.Name, "addr", "add", addr + "/32", "dev", "eth0"},
		{"ip", "-n", pod.Name, "link", "set", "eth0", "up"},
		{"ip", "-n", pod.Name, "route", "add", WorkloadGateway, "dev", "eth0", "scope", "link"},
		{"ip", "-n", pod.Name, "route", "add", "default", "via", WorkloadGateway, "dev", "eth0"},
	}
	for _, s := range steps {
		if _, err := Run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
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
	for _, s := range steps {
		if _, err := Run(s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}
