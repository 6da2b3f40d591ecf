package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// makeFabric creates the fabric namespace: a bridge per subnet holding the
// subnet's gateway address, the datastore address on its loopback, and
// forwarding on, so the fabric routes between subnets. It has no link out
// of the lab.
func (l *Lab) makeFabric(ctx context.Context) error {
	fab := FabricNetns(l.st.RunID)
	if err := addNetns(ctx, fab); err != nil {
		return fmt.Errorf("create fabric namespace: %w", err)
	}
	l.st.Namespaces = append(l.st.Namespaces, fab)
	if err := l.st.save(); err != nil {
		return err
	}
	steps := [][]string{
		// On loopback: a local address reachable from every subnet
		// (dummy devices need a module some kernels lack).
		{"addr", "add", EtcdAddr + "/32", "dev", "lo"},
	}
	for i, s := range l.st.Topology.Subnets {
		br := bridgeName(i)
		steps = append(steps,
			[]string{"link", "add", br, "type", "bridge"},
			[]string{"addr", "add", fmt.Sprintf("%s/%d", s.Gateway(), s.Bits()), "dev", br})
		if l.st.Topology.IPv6 {
			steps = append(steps, []string{"addr", "add", fmt.Sprintf("%s/%d", s.Gateway6(), s.CIDR6().Bits()), "dev", br, "nodad"})
		}
		steps = append(steps, []string{"link", "set", br, "up"})
	}
	for _, s := range steps {
		if err := ipIn(ctx, fab, s...); err != nil {
			return fmt.Errorf("fabric: %w", err)
		}
	}
	return l.setForwarding(ctx, fab)
}

// setForwarding turns routing on in a namespace: IPv4, and IPv6 in a
// dual-stack lab (Calico's IPv6 host requirement
// net.ipv6.conf.all.forwarding=1).
func (l *Lab) setForwarding(ctx context.Context, netns string) error {
	if err := sysctlIn(ctx, netns, "net.ipv4.ip_forward=1"); err != nil {
		return err
	}
	if !l.st.Topology.IPv6 {
		return nil
	}
	return sysctlIn(ctx, netns, "net.ipv6.conf.all.forwarding=1")
}

// bridgeName is the fabric bridge of the i-th subnet.
func bridgeName(i int) string { return fmt.Sprintf("br%d", i+1) }

// makeNodeNetns creates node i's namespace, plugs its eth0 into the
// subnet's bridge, gives it its address and a default route via the
// subnet's gateway (the fabric), and turns forwarding on as a Kubernetes
// host has it. The default route stays inside the lab: the fabric routes
// only between lab subnets. It is also what makes proxy ARP answer for the
// pods' gateway 169.254.1.1 (see docs/cni.md).
func (l *Lab) makeNodeNetns(ctx context.Context, i int) error {
	n := l.st.Topology.Nodes[i]
	nsName := NodeNetns(l.st.RunID, n.Name)
	if err := l.attachHost(ctx, nsName, n.Subnet, n.Address, fmt.Sprintf("n%d", i+1)); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	// Felix sets ip_forward on a real node; the lab also does it, as a
	// Kubernetes host's sysctl configuration would.
	return l.setForwarding(ctx, nsName)
}

// makeExternalHost creates external host i: a namespace on its subnet with
// an address and a default route via the gateway, and nothing else.
func (l *Lab) makeExternalHost(ctx context.Context, i int) error {
	h := l.st.Topology.ExternalHosts[i]
	l.progress("external host %s: %s on %s (no Calico, no route to the pools)", h.Name, h.Address, h.Subnet)
	if err := l.attachHost(ctx, NodeNetns(l.st.RunID, h.Name), h.Subnet, h.Address, fmt.Sprintf("x%d", i+1)); err != nil {
		return fmt.Errorf("external host %s: %w", h.Name, err)
	}
	return nil
}

// attachHost creates a namespace whose eth0 is a veth to the subnet's
// bridge in the fabric (the fabric end named port), with address and a
// default route via the subnet's gateway; in a dual-stack lab also the
// address's IPv6 twin and an IPv6 default route.
func (l *Lab) attachHost(ctx context.Context, nsName, subnet, address, port string) error {
	t := &l.st.Topology
	fab := FabricNetns(l.st.RunID)
	sub, _ := t.SubnetOf(subnet)
	subIdx := 0
	for j, s := range t.Subnets {
		if s.Name == subnet {
			subIdx = j
		}
	}
	if err := addNetns(ctx, nsName); err != nil {
		return err
	}
	l.st.Namespaces = append(l.st.Namespaces, nsName)
	if err := l.st.save(); err != nil {
		return err
	}
	fabSteps := [][]string{
		// Created across namespaces directly: no link ever exists in the
		// root namespace.
		{"link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", nsName},
		{"link", "set", port, "master", bridgeName(subIdx)},
		{"link", "set", port, "up"},
	}
	for _, s := range fabSteps {
		if err := ipIn(ctx, fab, s...); err != nil {
			return err
		}
	}
	hostSteps := [][]string{
		{"addr", "add", fmt.Sprintf("%s/%d", address, sub.Bits()), "dev", "eth0"},
		{"link", "set", "eth0", "up"},
		{"route", "add", "default", "via", sub.Gateway().String(), "dev", "eth0"},
	}
	if t.IPv6 {
		// nodad: the address is usable at once (the lab hands out
		// unique addresses; duplicate detection would only delay it).
		hostSteps = append(hostSteps,
			[]string{"addr", "add", fmt.Sprintf("%s/%d", Address6(address), sub.CIDR6().Bits()), "dev", "eth0", "nodad"},
			[]string{"-6", "route", "add", "default", "via", sub.Gateway6().String(), "dev", "eth0"})
	}
	for _, s := range hostSteps {
		if err := ipIn(ctx, nsName, s...); err != nil {
			return err
		}
	}
	return nil
}

// startDatastore starts the embedded (calico-lab serve-etcd) or external
// (Debian's etcd) datastore in the fabric namespace and waits until it is
// healthy on the fabric address.
func (l *Lab) startDatastore(ctx context.Context) error {
	fab := FabricNetns(l.st.RunID)
	dataDir := filepath.Join(l.st.Dir, "etcd")
	logPath := filepath.Join(l.st.Dir, "logs", "etcd.log")
	var (
		p   Process
		err error
	)
	if l.st.Topology.Datastore == DatastoreExternal {
		p, err = startProcess(l.st.RunID, RoleEtcd, "etcd", fab, logPath, baseEnv(), l.st.Bins.Etcd, externalEtcdArgs(dataDir)...)
	} else {
		p, err = startProcess(l.st.RunID, RoleEtcd, "etcd", fab, logPath, baseEnv(), l.st.Bins.Lab, "serve-etcd",
			"--data-dir", dataDir, "--listen", fmt.Sprintf("%s:%d", EtcdAddr, EtcdPort), "--loopback-port", strconv.Itoa(EtcdPort))
	}
	if err != nil {
		return err
	}
	l.st.Processes = append(l.st.Processes, p)
	if err := l.st.save(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitEtcdHealthy(wctx, fab, p)
}

// EtcdEndpoint is the datastore URL as nodes and pods' CNI see it.
func EtcdEndpoint() string { return fmt.Sprintf("http://%s:%d", EtcdAddr, EtcdPort) }

// nodeEnv is calico-node's environment for node i: Calico's variables for
// the datastore, node name, address, pool and backend, and Tricolor's
// TRICOLOR_VAR_LIB_DIR so each node has its own /var/lib/calico. Topology
// env, then node env, override.
func (l *Lab) nodeEnv(i int) []string {
	t := &l.st.Topology
	n := t.Nodes[i]
	sub, _ := t.SubnetOf(n.Subnet)
	vars := map[string]string{
		"NODENAME":                  n.Name,
		"DATASTORE_TYPE":            "etcdv3",
		"ETCD_ENDPOINTS":            EtcdEndpoint(),
		"CALICO_NETWORKING_BACKEND": t.Backend,
		"CALICO_IPV4POOL_CIDR":      t.Pool.CIDR,
		"CALICO_IPV4POOL_VXLAN":     t.Pool.VXLANMode,
		"CALICO_IPV4POOL_IPIP":      t.Pool.IPIPMode,
		"TRICOLOR_VAR_LIB_DIR":      l.nodeStateDir(n.Name),
		"TRICOLOR_RUN_DIR":          l.nodeRunDir(n.Name),
		"CALICO_STARTUP_LOGLEVEL":   "info",
		"FELIX_IPV6SUPPORT":         "false",
		"IP_AUTODETECTION_METHOD":   "first-found",
	}
	if t.Pool.NATOutgoing != nil {
		vars["CALICO_IPV4POOL_NAT_OUTGOING"] = strconv.FormatBool(*t.Pool.NATOutgoing)
	}
	if t.Pool.BlockSize != 0 {
		vars["CALICO_IPV4POOL_BLOCK_SIZE"] = strconv.Itoa(t.Pool.BlockSize)
	}
	if t.NodeIP == NodeIPExplicit {
		vars["IP"] = fmt.Sprintf("%s/%d", n.Address, sub.Bits())
	} else {
		vars["IP"] = "autodetect"
	}
	if t.IPv6 {
		t.ipv6NodeEnv(n, sub, vars)
	}
	for k, v := range t.Env {
		vars[k] = v
	}
	for k, v := range n.Env {
		vars[k] = v
	}
	env := baseEnv()
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// startNode starts calico-node in node i's namespace.
func (l *Lab) startNode(i int) error {
	n := l.st.Topology.Nodes[i]
	if err := os.MkdirAll(l.nodeStateDir(n.Name), 0o755); err != nil {
		return err
	}
	p, err := startProcess(l.st.RunID, RoleNode, n.Name, NodeNetns(l.st.RunID, n.Name),
		filepath.Join(l.st.Dir, "logs", "calico-node-"+n.Name+".log"), l.nodeEnv(i), l.st.Bins.Node)
	if err != nil {
		return err
	}
	l.st.Processes = append(l.st.Processes, p)
	return l.st.save()
}

// waitNodesReady waits until the named nodes' calico-node (all when none
// are named) have finished startup: the nodename file (written last by
// startup, see docs/node.md) exists and the process still runs.
func (l *Lab) waitNodesReady(ctx context.Context, only ...string) error {
	deadline := time.Now().Add(nodeReadyTimeout)
	pending := map[string]Process{}
	for _, p := range l.st.Processes {
		if p.Role == RoleNode && (len(only) == 0 || slices.Contains(only, p.Name)) {
			pending[p.Name] = p
		}
	}
	for len(pending) > 0 {
		for name, p := range pending {
			if _, err := os.Stat(filepath.Join(l.nodeStateDir(name), "nodename")); err == nil {
				if p.alive() {
					delete(pending, name)
					l.progress("calico-node %s: started (pid %d)", name, p.PID)
					continue
				}
			}
			if !p.alive() {
				return fmt.Errorf("calico-node on %s exited during startup; log %s:\n%s", name, p.Log, tail(p.Log, 3000))
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var names []string
			for n := range pending {
				names = append(names, n)
			}
			sort.Strings(names)
			p := pending[names[0]]
			return fmt.Errorf("calico-node on %s not ready after %s (no nodename file); log %s:\n%s",
				strings.Join(names, ", "), nodeReadyTimeout, p.Log, tail(p.Log, 3000))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
