package cni_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// debianCNIDir holds Debian's containernetworking-plugins (portmap,
// bandwidth, ptp, host-local).
const debianCNIDir = "/usr/lib/cni"

// plugins holds cmd/calico, built once per test binary and installed as
// both calico and calico-ipam.
var plugins = &testutil.BuildCache{Prefix: "tricolor-cni-bin-", Build: func(dir string) error {
	if err := testutil.GoBuild(dir, "github.com/tricolor-net/tricolor/cmd/calico"); err != nil {
		return err
	}
	return os.Link(filepath.Join(dir, "calico"), filepath.Join(dir, "calico-ipam"))
}}

func TestMain(m *testing.M) {
	code := m.Run()
	plugins.Remove()
	os.Exit(code)
}

// nsExec runs every plugin with its network namespace set to the test's
// host namespace: the exec happens on an OS thread that entered it, and a
// child process inherits its creating thread's namespaces.
type nsExec struct {
	hostNS string
	raw    *invoke.RawExec
	stderr *testutil.LockedBuffer
}

func (e *nsExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := ns.WithNetNSPath(e.hostNS, func(ns.NetNS) error {
		c := exec.CommandContext(ctx, pluginPath)
		c.Env, c.Stdin, c.Stdout, c.Stderr = environ, bytes.NewReader(stdin), &stdout, &stderr
		return c.Run()
	})
	// Unlike invoke.RawExec, keep stderr on failure too: tests check the
	// plugin writes its error there.
	_, _ = e.stderr.Write(stderr.Bytes())
	if err != nil {
		var te types.Error
		if json.Unmarshal(stdout.Bytes(), &te) == nil && te.Code != 0 {
			return nil, &te
		}
		return nil, fmt.Errorf("%s: %v (stdout %q, stderr %q)", filepath.Base(pluginPath), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

func (e *nsExec) FindInPath(plugin string, paths []string) (string, error) {
	return e.raw.FindInPath(plugin, paths)
}

func (e *nsExec) Decode(b []byte) (version.PluginInfo, error) {
	return (&version.PluginDecoder{}).Decode(b)
}

// node is one test node: a host namespace, a datastore and a CNI runtime.
type node struct {
	t        *testing.T
	host     *testutil.Netns
	hostPath string
	etcd     *testutil.EtcdProcess
	client   *client.Client
	cni      *libcni.CNIConfig
	stderr   *testutil.LockedBuffer
	logFile  string
	name     string
	// etcdInNS is the datastore's address as the plugin sees it from the
	// host namespace (a forwarder on that namespace's loopback).
	etcdInNS string
	// cli is the namespace on the node's uplink (198.18.0.2).
	cli *testutil.Netns
}

// newNode creates the host namespace, starts Debian's etcd and creates the
// pod pool 10.244.0.0/16.
func newNode(t *testing.T) *node {
	t.Helper()
	n := newHostNode(t)
	n.etcd = testutil.StartEtcdProcess(t)
	ctx := context.Background()
	c, closer, err := client.Open(ctx, &client.Config{CalicoAPIConfigSpec: client.CalicoAPIConfigSpec{
		DatastoreType: client.DatastoreEtcdV3, EtcdConfig: client.EtcdConfig{EtcdEndpoints: n.etcd.Endpoint}}, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer() })
	n.client = c
	n.etcdInNS = "http://" + testutil.ForwardIntoNetns(t, n.hostPath, strings.TrimPrefix(n.etcd.Endpoint, "http://"))
	n.createPool("pod-pool", "10.244.0.0/16", 26)
	return n
}

// newHostNode creates the node's host namespace with its uplink and the
// CNI runtime; the datastore is the caller's.
func newHostNode(t *testing.T) *node {
	t.Helper()
	testutil.RequireRoot(t)
	dir := plugins.Dir(t)
	n := &node{t: t, host: testutil.NewNetns(t, "cnihost"), stderr: &testutil.LockedBuffer{}, name: "node-1"}
	n.hostPath = "/run/netns/" + n.host.Name
	n.logFile = filepath.Join(t.TempDir(), "cni.log")
	// What Felix would do on a real node: forward between interfaces.
	n.host.Exec(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	// The node's uplink: a client namespace stands for the rest of the
	// network, and the node's default route points at it. Proxy ARP for
	// 169.254.1.1 needs that route, as on any real node.
	n.cli = testutil.NewNetns(t, "cnicli")
	testutil.Veth(t, n.host, "fab0", n.cli, "eth0")
	n.host.IP(t, "addr", "add", "198.18.0.1/30", "dev", "fab0")
	n.cli.IP(t, "addr", "add", "198.18.0.2/30", "dev", "eth0")
	n.host.IP(t, "route", "add", "default", "via", "198.18.0.2")
	n.cni = libcni.NewCNIConfigWithCacheDir([]string{dir, debianCNIDir}, t.TempDir(),
		&nsExec{hostNS: n.hostPath, raw: &invoke.RawExec{}, stderr: n.stderr})
	return n
}

func (n *node) createPool(name, cidr string, blockSize int) {
	n.t.Helper()
	pool := v3.NewIPPool()
	pool.Name = name
	pool.Spec.CIDR = cidr
	pool.Spec.BlockSize = blockSize
	if _, err := n.client.Create(context.Background(), pool); err != nil {
		n.t.Fatalf("create pool %s: %v", cidr, err)
	}
}

// calicoConf is the calico plugin's config for this node; extra fields are
// merged in (ipam fields under "ipam").
func (n *node) calicoConf(extra map[string]any) map[string]any {
	conf := map[string]any{
		"type": "calico", "log_level": "info", "log_file_path": n.logFile,
		"datastore_type": "etcdv3", "etcd_endpoints": n.etcdInNS,
		"nodename": n.name, "mtu": 1450,
		"ipam": map[string]any{"type": "calico-ipam"},
	}
	for k, v := range extra {
		conf[k] = v
	}
	return conf
}

// confList builds a network list named k8s-pod-network.
func (n *node) confList(cniVersion string, plugins ...map[string]any) *libcni.NetworkConfigList {
	n.t.Helper()
	b, err := json.Marshal(map[string]any{"cniVersion": cniVersion, "name": "k8s-pod-network", "plugins": plugins})
	if err != nil {
		n.t.Fatal(err)
	}
	l, err := libcni.NetworkConfFromBytes(b)
	if err != nil {
		n.t.Fatalf("parse conflist: %v\n%s", err, b)
	}
	return l
}

// pod is one sandbox: its own namespace and the runtime's view of it.
type pod struct {
	ns        *testutil.Netns
	path      string
	namespace string
	name      string
	rt        *libcni.RuntimeConf
}

// newPod makes a pod namespace and the RuntimeConf a runtime would pass.
func (n *node) newPod(namespace, name string, caps map[string]any) *pod {
	n.t.Helper()
	p := &pod{ns: testutil.NewNetns(n.t, "pod"), namespace: namespace, name: name}
	p.path = "/run/netns/" + p.ns.Name
	cid := strings.ReplaceAll(p.ns.Name, "-", "") + "0123456789abcdef"
	p.rt = &libcni.RuntimeConf{ContainerID: cid, NetNS: p.path, IfName: "eth0",
		Args:           [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", namespace}, {"K8S_POD_NAME", name}, {"K8S_POD_INFRA_CONTAINER_ID", cid}},
		CapabilityArgs: caps}
	return p
}

// add runs ADD and returns the result as the current version.
func (n *node) add(l *libcni.NetworkConfigList, p *pod) *current.Result {
	n.t.Helper()
	r, err := n.cni.AddNetworkList(context.Background(), l, p.rt)
	if err != nil {
		n.t.Fatalf("ADD %s/%s (cniVersion %s): %v\nstderr:\n%s", p.namespace, p.name, l.CNIVersion, err, n.stderr.String())
	}
	cr, err := current.NewResultFromResult(r)
	if err != nil {
		n.t.Fatal(err)
	}
	return cr
}

func (n *node) del(l *libcni.NetworkConfigList, p *pod) {
	n.t.Helper()
	if err := n.cni.DelNetworkList(context.Background(), l, p.rt); err != nil {
		n.t.Fatalf("DEL %s/%s: %v\nstderr:\n%s", p.namespace, p.name, err, n.stderr.String())
	}
}

// podAddr returns the pod's first address of the family from a result.
func podAddr(t *testing.T, r *current.Result, v4 bool) netip.Addr {
	t.Helper()
	for _, ip := range r.IPs {
		a, _ := netip.AddrFromSlice(ip.Address.IP)
		a = a.Unmap()
		if a.Is4() == v4 {
			return a
		}
	}
	t.Fatalf("result has no IPv%v address: %+v", map[bool]int{true: 4, false: 6}[v4], r)
	return netip.Addr{}
}

// assertClean checks nothing of any pod is left: no cali link, no pod
// route in the host namespace, no WorkloadEndpoint, no IPAM handle and no
// allocation.
func (n *node) assertClean(what string) {
	n.t.Helper()
	ctx := context.Background()
	if links := n.host.IP(n.t, "-o", "link", "show"); strings.Contains(links, "cali") {
		n.t.Errorf("%s: cali links left in the host namespace:\n%s", what, links)
	}
	if routes := n.host.IP(n.t, "route", "show") + n.host.IP(n.t, "-6", "route", "show"); strings.Contains(routes, "10.244.") || strings.Contains(routes, "fd00:10:244") {
		n.t.Errorf("%s: pod routes left in the host namespace:\n%s", what, routes)
	}
	weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, n.client, "")
	if err != nil {
		n.t.Fatal(err)
	}
	if len(weps) > 0 {
		n.t.Errorf("%s: %d workload endpoints left, first %s/%s", what, len(weps), weps[0].Namespace, weps[0].Name)
	}
	handles, _, err := client.List[*v3.IPAMHandle](ctx, n.client, "")
	if err != nil {
		n.t.Fatal(err)
	}
	if len(handles) > 0 {
		n.t.Errorf("%s: %d IPAM handles left, first %s", what, len(handles), handles[0].Spec.HandleID)
	}
	blocks, _, err := client.List[*v3.IPAMBlock](ctx, n.client, "")
	if err != nil {
		n.t.Fatal(err)
	}
	for _, b := range blocks {
		for i, a := range b.Spec.Allocations {
			if a != nil {
				n.t.Errorf("%s: block %s ordinal %d still allocated", what, b.Spec.CIDR, i)
			}
		}
	}
}

// cniErr asserts err is a CNI error whose message or details contain want.
func cniErr(t *testing.T, err error, want string) *types.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected a CNI error containing %q, got success", want)
	}
	var te *types.Error
	if !errors.As(err, &te) {
		t.Fatalf("error is %T (%v), not a CNI error", err, err)
	}
	if !strings.Contains(te.Msg+" "+te.Details, want) {
		t.Fatalf("CNI error %+v does not mention %q", te, want)
	}
	return te
}

// ping pings addr from the host namespace.
func (n *node) ping(addr netip.Addr) error {
	out, err := n.host.Command("ping", "-c", "1", "-W", "2", addr.String()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from the host namespace: %v\n%s", addr, err, out)
	}
	return nil
}

// waitFile waits for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("plugin never reached %s", path)
}
