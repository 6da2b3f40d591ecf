package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// TestPrivilegedCalicoNode_KubernetesDatastore runs the real binary inside
// a fresh namespace with DATASTORE_TYPE=kubernetes against a real
// kube-apiserver (forwarded onto the namespace's loopback): -startup finds
// the node's address from the Kubernetes Node's InternalIP and writes it,
// the AS number and the VXLAN tunnel address as annotations on that Node,
// and the default pool as a CRD; the daemon's Felix then syncs over the
// kubernetes datastore and programs the namespace (-felix-ready).
func TestPrivilegedCalicoNode_KubernetesDatastore(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildBinary(t, ".")
	dir := t.TempDir()
	rc := testutil.StartKubeAPIServer(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(rc)
	kn, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kdd-node-1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kn.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.18.9.2"}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, kn, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	ns := testutil.NewNetns(t, "ckdd")
	peer := testutil.NewNetns(t, "ckddp")
	testutil.Veth(t, ns, "eth0", peer, "peer0")
	ns.IP(t, "addr", "add", "198.18.9.2/24", "dev", "eth0")
	inNS := *rc
	inNS.Host = "https://" + testutil.ForwardIntoNetns(t, "/run/netns/"+ns.Name, strings.TrimPrefix(rc.Host, "https://"))
	env := append(os.Environ(), "DATASTORE_TYPE=kubernetes", "KUBECONFIG="+testutil.WriteKubeconfig(t, &inNS),
		"NODENAME=kdd-node-1", "IP_AUTODETECTION_METHOD=kubernetes-internal-ip", "AS=64512",
		"CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_VXLAN=Always",
		"TRICOLOR_VAR_LIB_DIR="+dir, "TRICOLOR_RUN_DIR="+dir, "FELIX_HEALTHPORT=19097")

	cmd := ns.Command(bin, "-startup")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("-startup: %v\n%s", err, out)
	}
	kn, err = cs.CoreV1().Nodes().Get(ctx, "kdd-node-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := kn.Annotations; a["projectcalico.org/IPv4Address"] != "198.18.9.2/24" || a["projectcalico.org/ASNumber"] != "64512" || a["projectcalico.org/IPv4VXLANTunnelAddr"] == "" {
		t.Fatalf("kubernetes node annotations after -startup: %v", a)
	}
	kdd, err := k8s.NewKDD(rc)
	if err != nil {
		t.Fatal(err)
	}
	if pool, err := client.Get[*v3.IPPool](ctx, client.New(kdd), "", "default-ipv4-ippool"); err != nil || pool.Spec.CIDR != "10.244.0.0/16" {
		t.Fatalf("default pool CRD: %+v, %v", pool, err)
	}

	stopDaemon := runDaemon(t, ns, bin, env)
	deadline := time.Now().Add(60 * time.Second)
	for {
		probe := ns.Command(bin, "-felix-ready")
		probe.Env = env
		out, err := probe.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("-felix-ready never succeeded on the kubernetes datastore: %s\nlogs:\n%s", out, stopDaemon())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if out := ns.Exec(t, "nft", "list", "table", "inet", "calico"); !strings.Contains(out, "chain filter-forward") {
		t.Errorf("Felix ready but the namespace's inet calico table lacks filter-forward:\n%s", out)
	}
	stopDaemon()
}
