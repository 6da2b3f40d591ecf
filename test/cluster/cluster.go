package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Fabric addressing (inside the lab only, as internal/lab): one L2 segment
// 198.18.0.0/24, the fabric namespace's bridge at .1 is every node's default
// gateway (it routes nowhere: the lab has no way out), the control plane at
// .10, node i at .(10+i).
const (
	fabricGateway = "198.18.0.1"
	fabricBits    = 24
	// PodCIDR is the default IPPool calico-node creates.
	PodCIDR = "10.244.0.0/16"
)

// Options shape a cluster.
type Options struct {
	// Nodes is the number of worker nodes (default 2).
	Nodes int
	// Backend is calico-node's CALICO_NETWORKING_BACKEND: bird (BGP mesh,
	// default) or vxlan (the pool then uses VXLAN Always).
	Backend string
	// ExtraKubeBinaries are further binaries required from .cache/bin
	// (e2e.test for the conformance run).
	ExtraKubeBinaries []string
	// KubeProxy runs kube-proxy (iptables mode) on every node, for
	// Service ClusterIPs (the upstream NetworkPolicy suite probes them).
	KubeProxy bool
}

// Cluster is a running Kubernetes cluster in network namespaces with
// Tricolor installed: the control plane (etcd, kube-apiserver,
// kube-scheduler, kube-controller-manager, calico-kube-controllers) in one
// namespace, each node (containerd, kubelet, calico-node) in its own.
type Cluster struct {
	t    testing.TB
	opts Options
	// Dir holds every file of the run (logs under Dir/logs).
	Dir  string
	bins Binaries
	sec  *secrets
	// ControlPlane is the control plane's namespace.
	ControlPlane *testutil.Netns
	fabric       *testutil.Fabric
	// Server is the API server URL as nodes and the control plane see it.
	Server string
	// Config is an admin client configuration usable from the test process.
	Config *rest.Config
	// Kube is an admin clientset on Config.
	Kube  kubernetes.Interface
	Nodes []*Node
	procs []*proc
	// kubeControllers is calico-kube-controllers (nil until that command exists).
	kubeControllers *proc
}

// Node is one worker.
type Node struct {
	Name, IP string
	NS       *testutil.Netns
	dirs     nodeDirs
	// CgroupRoot is the kubelet's cgroupRoot (distinct per node).
	CgroupRoot string
	kubelet    *proc
	calico     *proc
}

// Up builds what is missing, brings the whole cluster up and registers its
// tear-down (also after a failure). It fails the test if any part does not
// come up, with the failing component's log.
func Up(t testing.TB, opts Options) *Cluster {
	t.Helper()
	testutil.RequireRoot(t)
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	if opts.Backend == "" {
		opts.Backend = "bird"
	}
	sweepStale()
	dir, err := os.MkdirTemp("", "tc-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, opts: opts, Dir: dir}
	t.Cleanup(func() { c.Down() })
	if err := os.MkdirAll(c.logDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := opts.ExtraKubeBinaries
	if opts.KubeProxy {
		extra = append(extra, "kube-proxy")
	}
	c.bins = findBinaries(t, dir, extra...)
	c.logf("binaries ready")
	c.makeNetwork()
	if err := c.saveRecord(); err != nil {
		t.Fatal(err)
	}
	c.startControlPlane()
	for _, n := range c.Nodes {
		c.startNode(n)
	}
	c.startKubeControllers()
	c.waitNodesReady(3 * time.Minute)
	c.logf("cluster up: %d nodes Ready", len(c.Nodes))
	return c
}

func (c *Cluster) logDir() string { return filepath.Join(c.Dir, "logs") }

func (c *Cluster) logf(format string, a ...any) {
	c.t.Helper()
	c.t.Logf("%s cluster: %s", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

// makeNetwork creates the fabric, the control-plane namespace and one
// namespace per node, each with a default route to the fabric gateway
// (the kubelet finds its node IP from it; proxy ARP for pods needs it).
func (c *Cluster) makeNetwork() {
	t := c.t
	c.fabric = testutil.NewFabric(t)
	c.fabric.NS.IP(t, "addr", "add", fmt.Sprintf("%s/%d", fabricGateway, fabricBits), "dev", "br0")
	attach := func(tag string, host int) (*testutil.Netns, string) {
		ns := testutil.NewNetns(t, tag)
		ip := fmt.Sprintf("198.18.0.%d", host)
		c.fabric.Attach(t, ns, "eth0", fmt.Sprintf("%s/%d", ip, fabricBits))
		ns.IP(t, "route", "add", "default", "via", fabricGateway)
		return ns, ip
	}
	var cpIP string
	c.ControlPlane, cpIP = attach("cp", 10)
	c.Server = fmt.Sprintf("https://%s:%d", cpIP, apiPort)
	id := strings.TrimPrefix(c.ControlPlane.Name, "tc-cp-")
	for i := 1; i <= c.opts.Nodes; i++ {
		name := fmt.Sprintf("node-%d", i)
		ns, ip := attach(fmt.Sprintf("node%d", i), 10+i)
		// A Kubernetes node forwards IPv4 (kubeadm's preflight demands
		// it); Calico's Felix would also set it (IPForwarding=Enabled),
		// Tricolor's Felix does not yet.
		ns.Exec(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
		c.Nodes = append(c.Nodes, &Node{Name: name, IP: ip, NS: ns,
			dirs: nodeDirs{root: filepath.Join(c.Dir, name)}, CgroupRoot: fmt.Sprintf("/tricolor-%s-%s", id, name)})
	}
}

// start starts a component and remembers it for tear-down.
func (c *Cluster) start(netns, name string, env []string, bin string, args ...string) *proc {
	c.t.Helper()
	p, err := startIn(netns, c.logDir(), name, env, bin, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.procs = append(c.procs, p)
	return p
}

// waitFor polls cond until it holds, failing with what and the process's
// log if p exits or the time runs out.
func (c *Cluster) waitFor(what string, p *proc, timeout time.Duration, cond func() error) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if last = cond(); last == nil {
			return
		}
		if p != nil && p.exited() {
			c.t.Fatalf("%s: %s exited: %v\n%s", what, p.name, last, p.tail(40))
		}
		time.Sleep(500 * time.Millisecond)
	}
	tail := ""
	if p != nil {
		tail = p.tail(40)
	}
	c.t.Fatalf("%s: not within %s: %v\n%s", what, timeout, last, tail)
}

// startControlPlane starts etcd, kube-apiserver, installs the CRDs, then
// kube-controller-manager and kube-scheduler.
func (c *Cluster) startControlPlane() {
	t := c.t
	cp := c.ControlPlane.Name
	var names []string
	for _, n := range c.Nodes {
		names = append(names, n.Name)
	}
	var err error
	if c.sec, err = writeSecrets(filepath.Join(c.Dir, "pki"), names); err != nil {
		t.Fatal(err)
	}
	etcd := c.start(cp, "etcd", nil, "etcd", "--name=cp", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+etcdClient, "--advertise-client-urls="+etcdClient,
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=cp=http://127.0.0.1:2380", "--log-level=warn")
	api := c.start(cp, "kube-apiserver", nil, c.bins.Kube["kube-apiserver"],
		apiServerArgs(c.sec, strings.TrimSuffix(strings.TrimPrefix(c.Server, "https://"), fmt.Sprintf(":%d", apiPort)))...)
	c.Config = c.sec.adminConfig(cp, c.Server)
	c.waitFor("kube-apiserver ready", api, 2*time.Minute, func() error {
		if etcd.exited() {
			return fmt.Errorf("etcd exited:\n%s", etcd.tail(20))
		}
		if _, err := os.Stat(c.sec.caFile()); err != nil {
			return err
		}
		rc := rest.CopyConfig(c.Config)
		rc.Timeout = 5 * time.Second
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return err
		}
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err != nil {
			return fmt.Errorf("%v %s", err, body)
		}
		return nil
	})
	if c.Kube, err = kubernetes.NewForConfig(c.Config); err != nil {
		t.Fatal(err)
	}
	c.logf("kube-apiserver ready at %s", c.Server)
	root, _ := testutil.RepoRoot()
	if err := testutil.InstallCRDs(context.Background(), c.Config, filepath.Join(root, "manifests", "crds")); err != nil {
		t.Fatal(err)
	}
	admin := filepath.Join(c.Dir, "admin.kubeconfig")
	if err := c.sec.kubeconfig(admin, c.Server, "admin"); err != nil {
		t.Fatal(err)
	}
	c.start(cp, "kube-controller-manager", nil, c.bins.Kube["kube-controller-manager"],
		"--kubeconfig="+admin, "--authentication-kubeconfig="+admin, "--authorization-kubeconfig="+admin,
		"--service-account-private-key-file="+filepath.Join(c.sec.dir, "sa.key"),
		"--root-ca-file="+c.sec.caFile(), "--use-service-account-credentials=false",
		"--allocate-node-cidrs=false", "--leader-elect=false", "--service-cluster-ip-range="+ServiceCIDR,
		"--controllers=*,-bootstrapsigner,-tokencleaner,-cloud-node-lifecycle,-service-lb-controller,-route,-csrsigning,-csrapproving,-csrcleaner",
		"--bind-address=127.0.0.1", "--secure-port=10257", "--node-monitor-grace-period=40s", "--v=1")
	c.start(cp, "kube-scheduler", nil, c.bins.Kube["kube-scheduler"],
		"--kubeconfig="+admin, "--authentication-kubeconfig="+admin, "--authorization-kubeconfig="+admin,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=10259", "--v=1")
	c.waitFor("default ServiceAccount created by kube-controller-manager", nil, 2*time.Minute, func() error {
		_, err := c.Kube.CoreV1().ServiceAccounts("default").Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})
	c.logf("controller-manager and scheduler running")
}

// waitNodesReady waits until every node reports Ready.
func (c *Cluster) waitNodesReady(timeout time.Duration) {
	c.t.Helper()
	for _, n := range c.Nodes {
		c.waitFor("node "+n.Name+" Ready", n.kubelet, timeout, func() error {
			node, err := c.Kube.CoreV1().Nodes().Get(context.Background(), n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady {
					if cond.Status == corev1.ConditionTrue {
						return nil
					}
					return fmt.Errorf("Ready=%s: %s", cond.Status, cond.Message)
				}
			}
			return fmt.Errorf("no Ready condition yet")
		})
	}
}

// startKubeControllers runs calico-kube-controllers in the control-plane
// namespace as its Deployment would (DATASTORE_TYPE=kubernetes, the node
// controller), when this checkout has the command.
func (c *Cluster) startKubeControllers() {
	if !c.bins.hasKubeControllers() {
		c.logf("calico-kube-controllers not built (cmd/calico-kube-controllers does not exist yet); Node deletion will not free IPAM")
		return
	}
	c.kubeControllers = c.start(c.ControlPlane.Name, "calico-kube-controllers",
		[]string{"DATASTORE_TYPE=kubernetes", "KUBECONFIG=" + filepath.Join(c.Dir, "calico-node.kubeconfig"), "ENABLED_CONTROLLERS=node"},
		filepath.Join(c.bins.Tricolor, "calico-kube-controllers"))
}

// HasKubeControllers reports whether calico-kube-controllers runs.
func (c *Cluster) HasKubeControllers() bool { return c.kubeControllers != nil }

// StopNode stops a node's kubelet and calico-node (the machine going
// away); its containers keep running until Down.
func (c *Cluster) StopNode(name string) {
	n := c.Node(name)
	if n == nil {
		c.t.Fatalf("no node %q", name)
	}
	n.kubelet.stop(10 * time.Second)
	n.calico.stop(10 * time.Second)
}
