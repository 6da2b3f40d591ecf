package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Fabric addressing. Node subnets and the datastore address come from
// 198.18.0.0/15 (RFC 2544's benchmarking range), which never leaves the lab.
const (
	// FabricRange holds every lab subnet and the datastore address.
	FabricRange = "198.18.0.0/15"
	// EtcdAddr is where the fabric serves the datastore to the nodes
	// (a /32 on the fabric's loopback).
	EtcdAddr = "198.18.0.1"
	// EtcdPort is the datastore's client port on EtcdAddr and on the
	// fabric's loopback.
	EtcdPort = 2379
)

// Defaults for a topology built from flags.
const (
	DefaultPoolCIDR   = "10.244.0.0/16"
	DefaultBackend    = "bird"
	DefaultVXLANMode  = "CrossSubnet"
	DefaultIPIPMode   = "Never"
	DatastoreEmbedded = "embedded"
	DatastoreExternal = "external"
	NodeIPAutodetect  = "autodetect"
	NodeIPExplicit    = "explicit"
)

// Topology describes a lab: its subnets, nodes, pool, networking backend,
// datastore and optional initial pods. It is read from YAML (ParseTopology)
// or built from flags (FlagTopology); Resolve fills defaults and addresses.
type Topology struct {
	// Subnets are the L2 segments; each becomes a bridge in the fabric,
	// whose first address is the subnet's gateway (the fabric routes
	// between subnets).
	Subnets []Subnet `json:"subnets"`
	// Nodes are the hosts, each a namespace running calico-node.
	Nodes []Node `json:"nodes"`
	// Pool is the default IPv4 pool calico-node creates.
	Pool Pool `json:"pool"`
	// IPv6 makes the lab dual stack: IPv6 on the fabric (FabricRange6),
	// calico-node with IP6, an IPv6 pool and FELIX_IPV6SUPPORT=true, and
	// pods with an IPv4 and an IPv6 address (CNI assign_ipv6). Off, the
	// lab is IPv4 only.
	IPv6 bool `json:"ipv6,omitempty"`
	// Pool6 is the default IPv6 pool of a dual-stack lab
	// (CALICO_IPV6POOL_*; default DefaultPool6CIDR, VXLAN Never).
	Pool6 Pool `json:"pool6,omitempty"`
	// Backend is CALICO_NETWORKING_BACKEND: bird, vxlan or none.
	Backend string `json:"backend,omitempty"`
	// Datastore is "embedded" (etcd inside `calico-lab serve-etcd`) or
	// "external" (Debian's etcd binary), both in the fabric namespace.
	Datastore string `json:"datastore,omitempty"`
	// NodeIP is "autodetect" (calico-node finds its address, Calico's
	// first-found) or "explicit" (the lab passes IP=<address/prefix>).
	NodeIP string `json:"nodeIP,omitempty"`
	// Env is extra environment for every calico-node (FELIX_*, …); a
	// node's own Env wins.
	Env map[string]string `json:"env,omitempty"`
	// Pods are created by `up` after the nodes are ready.
	Pods []PodSpec `json:"pods,omitempty"`
	// ExternalHosts are hosts on lab subnets that run no Calico: the
	// outside world pods reach through natOutgoing.
	ExternalHosts []ExternalHost `json:"externalHosts,omitempty"`
}

// Subnet is one L2 segment of the fabric.
type Subnet struct {
	// Name identifies the subnet in Node.Subnet ("s1", "rack-a", …).
	Name string `json:"name"`
	// CIDR is inside 198.18.0.0/15, e.g. 198.18.1.0/24.
	CIDR string `json:"cidr"`
}

// Node is one host of the lab.
type Node struct {
	// Name is the node name (NODENAME) and the namespace suffix.
	Name string `json:"name"`
	// Subnet names the segment the node's eth0 is attached to.
	Subnet string `json:"subnet"`
	// Address is the node's eth0 address without prefix; empty picks the
	// next free host address of the subnet.
	Address string `json:"address,omitempty"`
	// Env is extra environment for this node's calico-node.
	Env map[string]string `json:"env,omitempty"`
}

// ExternalHost is a namespace on a lab subnet with an address and a
// default route via the subnet's gateway, and nothing else: no calico-node,
// no pods, no route to the pools. A pool's traffic reaches it with the
// node's address as source when the pool has natOutgoing; without it the
// source is the pod's address, to which the host has no way back.
type ExternalHost struct {
	// Name is unique among nodes and external hosts; the namespace is
	// lab-<id>-<name>, like a node's.
	Name string `json:"name"`
	// Subnet names the segment the host's eth0 is attached to.
	Subnet string `json:"subnet"`
	// Address is the host's eth0 address; empty picks the next free one.
	Address string `json:"address,omitempty"`
}

// Pool is a default pool, set through calico-node's CALICO_IPV4POOL_*
// (Topology.Pool) or CALICO_IPV6POOL_* (Topology.Pool6) variables.
type Pool struct {
	CIDR      string `json:"cidr,omitempty"`
	VXLANMode string `json:"vxlanMode,omitempty"`
	IPIPMode  string `json:"ipipMode,omitempty"`
	BlockSize int    `json:"blockSize,omitempty"`
	// NATOutgoing is CALICO_IPV4POOL_NAT_OUTGOING (or _IPV6POOL_); nil
	// keeps calico-node's default (true for IPv4, false for IPv6).
	NATOutgoing *bool `json:"natOutgoing,omitempty"`
}

// PodSpec is a pod to create: its name, Kubernetes namespace, node and
// labels.
type PodSpec struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Node      string            `json:"node"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// FlagTopology builds the topology `calico-lab up --nodes N --subnets M`
// describes: subnets 198.18.1.0/24 … 198.18.M.0/24 named s1…sM, nodes
// node-1…node-N spread over them in order (3 nodes on 2 subnets: node-1
// and node-2 on s1, node-3 on s2).
func FlagTopology(nodes, subnets int) (*Topology, error) {
	if nodes < 1 || nodes > 200 {
		return nil, fmt.Errorf("--nodes %d: give between 1 and 200 nodes", nodes)
	}
	if subnets < 1 || subnets > 200 || subnets > nodes {
		return nil, fmt.Errorf("--subnets %d: give between 1 and the number of nodes (%d)", subnets, nodes)
	}
	t := &Topology{}
	for i := 1; i <= subnets; i++ {
		t.Subnets = append(t.Subnets, Subnet{Name: fmt.Sprintf("s%d", i), CIDR: fmt.Sprintf("198.18.%d.0/24", i)})
	}
	for i := 0; i < nodes; i++ {
		// Contiguous runs, earlier subnets taking the remainder.
		s := i * subnets / nodes
		t.Nodes = append(t.Nodes, Node{Name: fmt.Sprintf("node-%d", i+1), Subnet: t.Subnets[s].Name})
	}
	return t, nil
}

// LoadTopology reads and parses a topology file.
func LoadTopology(path string) (*Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology %s: %w", path, err)
	}
	t, err := ParseTopology(b)
	if err != nil {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	return t, nil
}

// ParseTopology parses YAML or JSON strictly: an unknown field is an error
// naming it.
func ParseTopology(b []byte) (*Topology, error) {
	var t Topology
	if err := yaml.UnmarshalStrict(b, &t); err != nil {
		return nil, fmt.Errorf("%v (fields: subnets, nodes, pool, ipv6, pool6, backend, datastore, nodeIP, env, pods, externalHosts)", err)
	}
	return &t, nil
}

var (
	dnsLabel   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelKeyRE = regexp.MustCompile(`^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
)

// Resolve fills defaults (pool 10.244.0.0/16 with VXLAN CrossSubnet, backend
// bird, embedded datastore, autodetected node IPs; with ipv6, pool6
// fd00:10:244::/64 with VXLAN Never) and node addresses, and checks
// everything, reporting every problem at once.
func (t *Topology) Resolve() error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if t.Pool.CIDR == "" {
		t.Pool.CIDR = DefaultPoolCIDR
	}
	if t.Pool.VXLANMode == "" {
		t.Pool.VXLANMode = DefaultVXLANMode
		if t.Pool.IPIPMode != "" && t.Pool.IPIPMode != "Never" {
			t.Pool.VXLANMode = "Never"
		}
	}
	if t.Pool.IPIPMode == "" {
		t.Pool.IPIPMode = DefaultIPIPMode
	}
	if t.Backend == "" {
		t.Backend = DefaultBackend
	}
	if t.Datastore == "" {
		t.Datastore = DatastoreEmbedded
	}
	if t.NodeIP == "" {
		t.NodeIP = NodeIPAutodetect
	}
	if p, err := netip.ParsePrefix(t.Pool.CIDR); err != nil || !p.Addr().Is4() {
		add("pool.cidr %q is not an IPv4 CIDR; use e.g. %s", t.Pool.CIDR, DefaultPoolCIDR)
	}
	t.resolveIPv6(add)
	for field, v := range map[string]string{"pool.vxlanMode": t.Pool.VXLANMode, "pool.ipipMode": t.Pool.IPIPMode} {
		switch v {
		case "Always", "CrossSubnet", "Never":
		default:
			add("%s %q: use Always, CrossSubnet or Never", field, v)
		}
	}
	if t.Pool.VXLANMode != "Never" && t.Pool.IPIPMode != "Never" {
		add("pool: vxlanMode %s and ipipMode %s are both on; a pool uses one encapsulation", t.Pool.VXLANMode, t.Pool.IPIPMode)
	}
	switch t.Backend {
	case "bird", "vxlan", "none":
	default:
		add("backend %q: use bird, vxlan or none (CALICO_NETWORKING_BACKEND)", t.Backend)
	}
	switch t.Datastore {
	case DatastoreEmbedded, DatastoreExternal:
	default:
		add("datastore %q: use embedded or external", t.Datastore)
	}
	switch t.NodeIP {
	case NodeIPAutodetect, NodeIPExplicit:
	default:
		add("nodeIP %q: use autodetect or explicit", t.NodeIP)
	}
	for k := range t.Env {
		if !envName.MatchString(k) {
			add("env %q is not an environment variable name", k)
		}
	}
	fabric := netip.MustParsePrefix(FabricRange)
	etcdAddr := netip.MustParseAddr(EtcdAddr)
	subnets := map[string]netip.Prefix{}
	if len(t.Subnets) == 0 {
		add("subnets: give at least one (e.g. {name: s1, cidr: 198.18.1.0/24})")
	}
	for i, s := range t.Subnets {
		p, err := netip.ParsePrefix(s.CIDR)
		switch {
		case !dnsLabel.MatchString(s.Name):
			add("subnets[%d].name %q: use lower-case letters, digits and '-'", i, s.Name)
		case subnets[s.Name].IsValid():
			add("subnets[%d].name %q is used twice", i, s.Name)
		case err != nil || p.Masked() != p:
			add("subnets[%d] %s: cidr %q is not a network address (e.g. 198.18.1.0/24)", i, s.Name, s.CIDR)
		case !fabric.Contains(p.Addr()) || p.Bits() < fabric.Bits() || p.Bits() > 29:
			add("subnets[%d] %s: cidr %s must be inside %s and no longer than /29", i, s.Name, s.CIDR, FabricRange)
		case p.Contains(etcdAddr):
			add("subnets[%d] %s: cidr %s holds the datastore address %s; use 198.18.1.0/24 and up", i, s.Name, s.CIDR, EtcdAddr)
		default:
			for name, q := range subnets {
				if q.Overlaps(p) {
					add("subnets[%d] %s: cidr %s overlaps subnet %s (%s)", i, s.Name, s.CIDR, name, q)
				}
			}
			subnets[s.Name] = p
		}
	}
	names := map[string]bool{}
	if len(t.Nodes) == 0 {
		add("nodes: give at least one (e.g. {name: node-1, subnet: s1})")
	}
	// Nodes and external hosts are both attached to a subnet with an
	// address: one check and one address assignment for both.
	var hosts []attachment
	for i := range t.Nodes {
		n := &t.Nodes[i]
		field := fmt.Sprintf("nodes[%d]", i)
		checkHostName(field, n.Name, names, add)
		for k := range n.Env {
			if !envName.MatchString(k) {
				add("%s %s: env %q is not an environment variable name", field, n.Name, k)
			}
		}
		hosts = append(hosts, attachment{field, n.Name, n.Subnet, &n.Address})
	}
	for i := range t.ExternalHosts {
		h := &t.ExternalHosts[i]
		field := fmt.Sprintf("externalHosts[%d]", i)
		checkHostName(field, h.Name, names, add)
		hosts = append(hosts, attachment{field, h.Name, h.Subnet, &h.Address})
	}
	assignAddresses(hosts, subnets, add)
	nodeNames := map[string]bool{}
	for _, n := range t.Nodes {
		nodeNames[n.Name] = true
	}
	pods := map[string]bool{}
	for i := range t.Pods {
		p := &t.Pods[i]
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		if err := p.validate(nodeNames); err != nil {
			add("pods[%d]: %v", i, err)
		}
		if pods[p.Namespace+"/"+p.Name] {
			add("pods[%d]: pod %s/%s is listed twice", i, p.Namespace, p.Name)
		}
		pods[p.Namespace+"/"+p.Name] = true
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return errors.New("invalid topology:\n  " + strings.Join(errs, "\n  "))
	}
	return nil
}

// attachment is a host (node or external host) plugged into a subnet, for
// Resolve's address checks; field names it in messages ("nodes[1]").
type attachment struct {
	field, name, subnet string
	address             *string
}

// checkHostName checks a node's or external host's name: a DNS label of up
// to 40 characters, not one of the lab's own namespace names, unique among
// all hosts (they share the namespace naming).
func checkHostName(field, name string, names map[string]bool, add func(string, ...any)) {
	if !dnsLabel.MatchString(name) || len(name) > 40 {
		add("%s.name %q: use up to 40 lower-case letters, digits and '-'", field, name)
	} else if name == "fabric" || strings.HasPrefix(name, "pod-") {
		add("%s.name %q is reserved for the lab's own namespaces; rename it", field, name)
	} else if names[name] {
		add("%s.name %q is used twice (node and external host names share one namespace)", field, name)
	}
	names[name] = true
}

// assignAddresses checks the hosts' subnets and explicit addresses, then
// gives the others the next free host address of their subnet (.2, .3, …).
func assignAddresses(hosts []attachment, subnets map[string]netip.Prefix, add func(string, ...any)) {
	used := map[netip.Addr]string{}
	var auto []attachment
	for _, h := range hosts {
		p, ok := subnets[h.subnet]
		if !ok {
			add("%s %s: subnet %q is not defined in subnets", h.field, h.name, h.subnet)
			continue
		}
		if *h.address == "" {
			auto = append(auto, h)
			continue
		}
		a, err := netip.ParseAddr(*h.address)
		if err != nil || !p.Contains(a) || a == p.Addr().Next() || a == lastAddr(p) || a == p.Addr() {
			add("%s %s: address %q is not a host address of subnet %s (%s) other than the gateway %s", h.field, h.name, *h.address, h.subnet, p, p.Addr().Next())
			continue
		}
		if other, dup := used[a]; dup {
			add("%s %s: address %s is already %s's", h.field, h.name, a, other)
		}
		used[a] = h.name
	}
	for _, h := range auto {
		p := subnets[h.subnet]
		a := p.Addr().Next().Next()
		for ; p.Contains(a) && a != lastAddr(p); a = a.Next() {
			if _, taken := used[a]; !taken {
				break
			}
		}
		if !p.Contains(a) || a == lastAddr(p) {
			add("%s %s: subnet %s (%s) has no free address left; use a larger subnet", h.field, h.name, h.subnet, p)
			continue
		}
		*h.address = a.String()
		used[a] = h.name
	}
}

// validate checks a pod's names and labels; nodes is the set of node names
// (nil skips the node check).
func (p *PodSpec) validate(nodes map[string]bool) error {
	var errs []string
	if !dnsLabel.MatchString(p.Name) || len(p.Name) > 63 {
		errs = append(errs, fmt.Sprintf("name %q: use up to 63 lower-case letters, digits and '-'", p.Name))
	}
	if !dnsLabel.MatchString(p.Namespace) || len(p.Namespace) > 63 {
		errs = append(errs, fmt.Sprintf("namespace %q: use up to 63 lower-case letters, digits and '-'", p.Namespace))
	}
	if nodes != nil && !nodes[p.Node] {
		errs = append(errs, fmt.Sprintf("node %q is not a node of the lab", p.Node))
	}
	for k, v := range p.Labels {
		if !labelKeyRE.MatchString(k) || len(v) > 63 {
			errs = append(errs, fmt.Sprintf("label %s=%s is not a valid Kubernetes label", k, v))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("pod %s/%s: %s", p.Namespace, p.Name, strings.Join(errs, "; "))
	}
	return nil
}

// SubnetOf returns the subnet named name.
func (t *Topology) SubnetOf(name string) (Subnet, bool) {
	for _, s := range t.Subnets {
		if s.Name == name {
			return s, true
		}
	}
	return Subnet{}, false
}

// Gateway is the fabric's address on the subnet (its first host address).
func (s Subnet) Gateway() netip.Addr { return netip.MustParsePrefix(s.CIDR).Addr().Next() }

// Bits is the subnet's prefix length.
func (s Subnet) Bits() int { return netip.MustParsePrefix(s.CIDR).Bits() }

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ParseLabels parses "k=v,k2=v2" (and repeated flags) into a map.
func ParseLabels(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		for _, kv := range strings.Split(item, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("label %q: write key=value", kv)
			}
			out[k] = v
		}
	}
	return out, nil
}
