package cni_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/cni"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// kddNode is a test node whose datastore is a real kube-apiserver
// (DATASTORE_TYPE=kubernetes): IPAM in custom resources, pods in the API.
type kddNode struct {
	*node
	kube       kubernetes.Interface
	rest       *rest.Config
	kubeconfig string
}

// newKDDNode starts a kube-apiserver, makes it reachable from the node's
// host namespace (a forwarder on that namespace's loopback), writes the
// kubeconfig the plugin reads and creates the pool 10.244.0.0/16.
func newKDDNode(t *testing.T) *kddNode {
	t.Helper()
	testutil.RequireRoot(t)
	rc := testutil.StartKubeAPIServer(t)
	n := &kddNode{node: newHostNode(t), rest: rc}
	be, err := k8s.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	n.client = client.New(be)
	if n.kube, err = kubernetes.NewForConfig(rc); err != nil {
		t.Fatal(err)
	}
	inNS := testutil.ForwardIntoNetns(t, n.hostPath, strings.TrimPrefix(rc.Host, "https://"))
	n.kubeconfig = filepath.Join(t.TempDir(), "calico-kubeconfig")
	writeKubeconfig(t, n.kubeconfig, "https://"+inNS, rc)
	n.createPool("pod-pool", "10.244.0.0/16", 26)
	return n
}

// writeKubeconfig writes a token kubeconfig for server, trusting rc's CA.
func writeKubeconfig(t *testing.T, path, server string, rc *rest.Config) {
	t.Helper()
	ca, err := os.ReadFile(rc.TLSClientConfig.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["calico-cni"] = &clientcmdapi.AuthInfo{Token: rc.BearerToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "calico-cni"}
	cfg.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// kddConf is the calico plugin's config in Kubernetes datastore mode, as
// calico-node install-cni writes it.
func (n *kddNode) kddConf() map[string]any {
	return map[string]any{
		"type": "calico", "log_level": "info", "log_file_path": n.logFile,
		"datastore_type": "kubernetes", "kubernetes": map[string]any{"kubeconfig": n.kubeconfig},
		"nodename": n.name, "mtu": 1450,
		"ipam": map[string]any{"type": "calico-ipam"},
	}
}

// createPod creates the Pod object the kubelet would be networking.
func (n *kddNode) createPod(namespace, name, serviceAccount string, labels, annotations map[string]string) {
	n.t.Helper()
	ctx := context.Background()
	_, err := n.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		n.t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{NodeName: n.name, ServiceAccountName: serviceAccount,
			Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}
	if _, err := n.kube.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		n.t.Fatal(err)
	}
}

func (n *kddNode) podAnnotations(namespace, name string) map[string]string {
	n.t.Helper()
	p, err := n.kube.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		n.t.Fatal(err)
	}
	return p.Annotations
}

func TestPrivilegedCNI_KubernetesDatastoreAnnotatesThePodAndWritesNoEndpoint(t *testing.T) {
	n := newKDDNode(t)
	ctx := context.Background()
	n.createPool("reserved", "10.245.0.0/24", 28)
	n.createPod("shop", "web", "shopper", map[string]string{"app": "web"},
		map[string]string{cni.AnnotationIPv4Pools: `["reserved"]`})
	n.createPod("shop", "fixed", "", nil, map[string]string{cni.AnnotationIPAddrs: `["10.244.7.7"]`})
	l := n.confList("1.0.0", n.kddConf())

	tests := []struct {
		pod, wantPrefix string
	}{
		{"web", "10.245.0."},    // ipv4pools annotation read from the API
		{"fixed", "10.244.7.7"}, // ipAddrs annotation read from the API
	}
	for _, tc := range tests {
		t.Run(tc.pod, func(t *testing.T) {
			n.t = t
			p := n.newPod("shop", tc.pod, nil)
			ip := podAddr(t, n.add(l, p), true)
			if !strings.HasPrefix(ip.String(), tc.wantPrefix) {
				t.Fatalf("pod %s got %s; want an address starting %s (from its annotation)", tc.pod, ip, tc.wantPrefix)
			}
			if err := n.ping(ip); err != nil {
				t.Fatal(err)
			}
			ann := n.podAnnotations("shop", tc.pod)
			if ann["cni.projectcalico.org/podIP"] != ip.String()+"/32" || ann["cni.projectcalico.org/podIPs"] != ip.String()+"/32" ||
				ann["cni.projectcalico.org/containerID"] != p.rt.ContainerID {
				t.Fatalf("pod annotations after ADD: %v; want podIP/podIPs %s/32 and containerID %s", ann, ip, p.rt.ContainerID)
			}
			weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, n.client, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(weps) != 0 {
				t.Fatalf("ADD wrote %d WorkloadEndpoint resources; in KDD mode the endpoint is derived from the Pod", len(weps))
			}
			handle := "k8s-pod-network." + p.rt.ContainerID
			h, err := client.Get[*v3.IPAMHandle](ctx, n.client, "", handle)
			if err != nil {
				t.Fatalf("IPAM handle %s not in the Kubernetes datastore: %v", handle, err)
			}
			if len(h.Spec.Block) != 1 {
				t.Fatalf("handle %s holds %v; want one block", handle, h.Spec.Block)
			}
			if err := n.cni.CheckNetworkList(ctx, l, p.rt); err != nil {
				t.Fatalf("CHECK of a healthy pod failed: %v", err)
			}

			n.del(l, p)
			ann = n.podAnnotations("shop", tc.pod)
			if ann["cni.projectcalico.org/podIP"] != "" || ann["cni.projectcalico.org/podIPs"] != "" {
				t.Fatalf("pod IP annotations not cleared by DEL: %v", ann)
			}
			if _, err := client.Get[*v3.IPAMHandle](ctx, n.client, "", handle); !client.IsNotFound(err) {
				t.Fatalf("IPAM handle %s after DEL: %v; want not found", handle, err)
			}
			n.del(l, p) // idempotent
		})
	}

	t.Run("labels and service account come from the pod", func(t *testing.T) {
		n.t = t
		p := n.newPod("shop", "web", nil)
		r := n.add(l, p)
		defer n.del(l, p)
		// Felix sees the endpoint through the Pod view: derived from the
		// annotations ADD wrote, with the pod's labels and service account.
		view, err := k8s.NewPodWorkloadEndpoints(n.rest)
		if err != nil {
			t.Fatal(err)
		}
		list, err := view.List(ctx, datastore.ListOptions{Kind: v3.KindWorkloadEndpoint, Namespace: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, kv := range list.Items {
			s := string(kv.Value)
			if strings.Contains(s, `"pod":"web"`) {
				found = true
				ip := podAddr(t, r, true).String()
				for _, want := range []string{`"app":"web"`, ip + "/32", `"ksa.shop.shopper"`, `"kns.shop"`} {
					if !strings.Contains(s, want) {
						t.Errorf("derived endpoint lacks %s: %s", want, s)
					}
				}
			}
		}
		if !found {
			t.Fatalf("no endpoint derived for pod shop/web in %d", len(list.Items))
		}
	})

	t.Run("DEL of an older sandbox leaves the new one's annotations", func(t *testing.T) {
		n.t = t
		old := n.newPod("shop", "fixed", nil)
		n.add(l, old)
		n.del(l, old)
		cur := n.newPod("shop", "fixed", nil)
		n.add(l, cur)
		defer n.del(l, cur)
		n.del(l, old) // the runtime retries a stale DEL
		if ann := n.podAnnotations("shop", "fixed"); ann["cni.projectcalico.org/containerID"] != cur.rt.ContainerID || ann["cni.projectcalico.org/podIP"] == "" {
			t.Fatalf("stale DEL touched the current sandbox's annotations: %v", ann)
		}
	})

	t.Run("missing pod fails ADD naming it and leaves nothing", func(t *testing.T) {
		n.t = t
		p := n.newPod("shop", "ghost", nil)
		_, err := n.cni.AddNetworkList(ctx, l, p.rt)
		cniErr(t, err, "shop/ghost")
	})
}
