package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// debianCNIDir holds Debian's containernetworking-plugins: loopback (which
// containerd's CRI runs for every sandbox's lo), portmap and bandwidth
// (chained after calico in Calico's conflist).
const debianCNIDir = "/usr/lib/cni"

// AgnhostImage is the e2e suite's test image (k8s.io/kubernetes
// test/utils/image for v1.33), built locally from the same module.
const AgnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.53"

// startNode brings one worker up the way a node boots: containerd with the
// local images, the kubelet (which registers the Node), then Tricolor as
// its DaemonSet would: install-cni, calico-node.
func (c *Cluster) startNode(n *Node) {
	t := c.t
	d := n.dirs
	for _, p := range []string{d.containerdRoot(), d.containerdState(), d.cniBin(), d.cniConf(), d.kubeletRoot(), d.podLogs(),
		d.calicoState(), d.calicoRun(), d.serviceAccount()} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, plugin := range []string{"loopback", "portmap", "bandwidth"} {
		if err := copyFile(filepath.Join(debianCNIDir, plugin), filepath.Join(d.cniBin(), plugin)); err != nil {
			t.Fatalf("node %s: %v (install Debian's containernetworking-plugins: make deps)", n.Name, err)
		}
	}
	if err := os.WriteFile(d.containerdConf(), []byte(containerdConfig(d)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The CNI plugin runs as containerd's child and inherits its
	// environment: the node's own /var/lib/calico.
	ctrd := c.start(n.NS.Name, n.Name+"-containerd", []string{"TRICOLOR_CALICO_STATE_DIR=" + d.calicoState()},
		"containerd", "--config", d.containerdConf(), "--log-level", "warn")
	c.waitFor("containerd on "+n.Name, ctrd, time.Minute, func() error {
		_, err := os.Stat(d.containerdSock())
		return err
	})
	c.importImages(n)

	if err := c.sec.kubeconfig(d.kubeconfig(), c.Server, n.Name); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.kubeletConf(), []byte(kubeletConfig(d, n.IP, n.CgroupRoot)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := makeCgroups(n.CgroupRoot); err != nil {
		t.Fatalf("node %s: %v", n.Name, err)
	}
	n.kubelet = c.start(n.NS.Name, n.Name+"-kubelet", nil, c.bins.Kube["kubelet"],
		"--config="+d.kubeletConf(), "--kubeconfig="+d.kubeconfig(), "--root-dir="+d.kubeletRoot(),
		"--cert-dir="+filepath.Join(d.kubeletRoot(), "pki"), "--hostname-override="+n.Name, "--node-ip="+n.IP, "--v=1")
	c.waitFor("node "+n.Name+" registered", n.kubelet, 2*time.Minute, func() error {
		_, err := c.Kube.CoreV1().Nodes().Get(context.Background(), n.Name, metav1.GetOptions{})
		return err
	})
	c.installTricolor(n)
	if c.opts.KubeProxy {
		c.start(n.NS.Name, n.Name+"-kube-proxy", nil, c.bins.Kube["kube-proxy"],
			"--kubeconfig="+filepath.Join(c.Dir, "admin.kubeconfig"), "--hostname-override="+n.Name,
			"--proxy-mode=iptables", "--cluster-cidr="+PodCIDR, "--conntrack-max-per-core=0",
			"--metrics-bind-address=127.0.0.1:10249", "--healthz-bind-address=127.0.0.1:10256", "--v=1")
	}
	c.logf("node %s: containerd, kubelet and calico-node started", n.Name)
}

// importImages imports the pause and agnhost images into the node's
// containerd (namespace k8s.io, where the CRI looks).
func (c *Cluster) importImages(n *Node) {
	t := c.t
	for _, img := range c.images() {
		tarball := filepath.Join(c.Dir, strings.NewReplacer("/", "_", ":", "_").Replace(img.Name)+".tar")
		if _, err := os.Stat(tarball); err != nil {
			if err := img.WriteOCITar(tarball); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := testutil.Run("ctr", "--address", n.dirs.containerdSock(), "-n", "k8s.io", "images", "import", tarball); err != nil {
			t.Fatalf("node %s: import %s: %v\n%s", n.Name, img.Name, err, out)
		}
	}
}

// images are the local images every node needs.
func (c *Cluster) images() []Image {
	return []Image{
		{Name: PauseImage, Binary: c.bins.Pause},
		{Name: AgnhostImage, Binary: c.bins.Kube["agnhost"]},
	}
}

// installTricolor does what the calico-node DaemonSet does on a node:
// the install-cni init step (CNI binaries, kubeconfig and conflist), then
// calico-node with the DaemonSet's environment.
func (c *Cluster) installTricolor(n *Node) {
	t := c.t
	d := n.dirs
	c.writeServiceAccount(d.serviceAccount())
	env := []string{
		"CNI_CONF_NAME=10-calico.conflist", "CNI_NET_DIR=" + d.cniConf(), "CNI_NETWORK_CONFIG=" + cniNetworkConfig(d),
		"KUBERNETES_NODE_NAME=" + n.Name, "KUBERNETES_SERVICE_HOST=" + strings.Split(strings.TrimPrefix(c.Server, "https://"), ":")[0],
		fmt.Sprintf("KUBERNETES_SERVICE_PORT=%d", apiPort), "CNI_MTU=1450", "SKIP_CNI_BINARIES=", "DATASTORE_TYPE=kubernetes",
	}
	// Inside the node's namespace: install-cni asks the API server for the
	// CNI plugin's token (TokenRequest), and the API server's address is
	// only reachable there.
	out, err := testutil.Run("ip", append([]string{"netns", "exec", n.NS.Name, "env"}, append(env, filepath.Join(c.bins.Tricolor, "calico-node"), "install-cni",
		"--source-bin-dir="+c.bins.Tricolor, "--host-bin-dir="+d.cniBin(), "--host-net-dir="+d.cniConf(),
		"--service-account-dir="+d.serviceAccount())...)...)
	if err != nil {
		t.Fatalf("node %s: calico-node install-cni: %v\n%s", n.Name, err, out)
	}
	n.calico = c.start(n.NS.Name, n.Name+"-calico-node", c.calicoNodeEnv(n), filepath.Join(c.bins.Tricolor, "calico-node"))
}

// calicoNodeEnv is the calico-node DaemonSet's environment for this node
// (manifests' calico-node container), plus the node's private state
// directories and the kubeconfig standing in for the in-cluster account.
func (c *Cluster) calicoNodeEnv(n *Node) []string {
	vxlan, mode := "Never", "bird"
	if c.opts.Backend == "vxlan" {
		vxlan, mode = "Always", "vxlan"
	}
	return []string{
		"DATASTORE_TYPE=kubernetes", "KUBECONFIG=" + filepath.Join(c.Dir, "calico-node.kubeconfig"),
		"NODENAME=" + n.Name, "CLUSTER_TYPE=k8s,bgp", "CALICO_NETWORKING_BACKEND=" + mode,
		"IP=autodetect", "IP_AUTODETECTION_METHOD=interface=eth0",
		"CALICO_IPV4POOL_CIDR=" + PodCIDR, "CALICO_IPV4POOL_IPIP=Never", "CALICO_IPV4POOL_VXLAN=" + vxlan,
		"CALICO_IPV4POOL_BLOCK_SIZE=26", "FELIX_IPV6SUPPORT=false", "FELIX_HEALTHENABLED=true",
		"CALICO_DISABLE_FILE_LOGGING=true", "CALICO_STARTUP_LOGLEVEL=info",
		"TRICOLOR_VAR_LIB_DIR=" + n.dirs.calicoState(), "TRICOLOR_RUN_DIR=" + n.dirs.calicoRun(),
	}
}

// calicoAccount is the service account Tricolor's components run as.
const calicoAccount = "calico-node"

// writeServiceAccount creates kube-system/calico-node (bound to
// cluster-admin until the install manifests bring Calico's RBAC) and
// writes a token and ca.crt into dir, as the kubelet mounts them into the
// DaemonSet's pods; the first call also writes calico-node.kubeconfig.
func (c *Cluster) writeServiceAccount(dir string) {
	t := c.t
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: calicoAccount}}
	if _, err := c.Kube.CoreV1().ServiceAccounts("kube-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tricolor-calico-node"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "kube-system", Name: calicoAccount}}}
	if _, err := c.Kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	exp := int64(24 * 3600)
	tr, err := c.Kube.CoreV1().ServiceAccounts("kube-system").CreateToken(ctx, calicoAccount,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(c.sec.caFile())
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"token": []byte(tr.Status.Token), "ca.crt": ca, "namespace": []byte("kube-system")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := filepath.Join(c.Dir, "calico-node.kubeconfig")
	if _, err := os.Stat(kc); err != nil {
		c.sec.tokens[calicoAccount] = tr.Status.Token
		if err := c.sec.kubeconfig(kc, c.Server, calicoAccount); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
