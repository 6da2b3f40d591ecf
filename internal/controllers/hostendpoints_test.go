package controllers

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// With hostEndpoint.autoCreate: Enabled every Calico Node gets
// "<node>-auto-hep" (all interfaces, the node's addresses and labels, the
// created-by label, the default-allow profile), kept in step when the
// node is relabelled or readdressed and deleted with the node; turning
// autoCreate back to Disabled deletes the ones it made. Host endpoints
// someone else made — even one under an auto name — are never touched.
func TestAutoHostEndpoints_FollowNodesAndTheSetting(t *testing.T) {
	onEachDatastore(t, func(t *testing.T, cl *cluster) {
		cl.labelledNode("node-a", map[string]string{"role": "web"})
		cl.node("node-b")
		cl.editNode("node-a", func(n *v3.Node) {
			n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.2/24"}
			n.Spec.IPv4VXLANTunnelAddr = "10.244.1.0"
		})
		manual := cl.createHEP("manual", "node-a", nil)
		squatter := cl.createHEP(autoHostEndpointName("node-b"), "node-b", map[string]string{"team": "ops"})
		env := map[string]string{"PROMETHEUS_METRICS_PORT": "0"}
		if cl.kdd {
			env["DATASTORE_TYPE"] = "kubernetes"
		}
		kcc := v3.NewKubeControllersConfiguration()
		kcc.Name = v3.KubeControllersConfigurationName
		kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(!cl.kdd)
		kcc.Spec.Controllers.Node.HostEndpoint.AutoCreate = "Enabled"
		if _, err := cl.c.Create(context.Background(), kcc); err != nil {
			t.Fatal(err)
		}
		cl.start(Config{Environment: envOf(env)})

		want := func(role string, ips ...string) func(*v3.HostEndpoint) bool {
			return func(h *v3.HostEndpoint) bool {
				return h != nil && h.Labels["role"] == role && h.Labels[CreatedByLabel] == CreatedByKubeControllers &&
					h.Spec.Node == "node-a" && h.Spec.InterfaceName == "*" && slices.Equal(h.Spec.ExpectedIPs, ips) &&
					slices.Equal(h.Spec.Profiles, []string{DefaultAllowProfile})
			}
		}
		cl.hepWhen("node-a-auto-hep", "created from node-a", want("web", "198.18.0.2", "10.244.1.0"))

		cl.setKubeLabels("node-a", map[string]string{"role": "db"})
		cl.hepWhen("node-a-auto-hep", "relabelled with node-a", want("db", "198.18.0.2", "10.244.1.0"))

		cl.editNode("node-a", func(n *v3.Node) {
			n.Spec.BGP.IPv4Address = "198.18.0.3/24"
			n.Spec.IPv6VXLANTunnelAddr = "fd00:10:244::1"
		})
		cl.hepWhen("node-a-auto-hep", "readdressed with node-a", want("db", "198.18.0.3", "10.244.1.0", "fd00:10:244::1"))

		if err := cl.kube.CoreV1().Nodes().Delete(context.Background(), "node-a", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cl.hepWhen("node-a-auto-hep", "deleted with node-a", func(h *v3.HostEndpoint) bool { return h == nil })

		cl.node("node-c")
		cl.hepWhen("node-c-auto-hep", "created for the new node-c", func(h *v3.HostEndpoint) bool { return h != nil })
		cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.Controllers.Node.HostEndpoint.AutoCreate = "Disabled" })
		cl.hepWhen("node-c-auto-hep", "deleted once autoCreate is Disabled", func(h *v3.HostEndpoint) bool { return h == nil })
		cl.kccWhen("the status shows autoCreate Disabled", func(k *v3.KubeControllersConfiguration) bool {
			n := k.Status.RunningConfig.Controllers.Node
			return n != nil && n.HostEndpoint != nil && n.HostEndpoint.AutoCreate == "Disabled"
		})

		for _, h := range []*v3.HostEndpoint{manual, squatter} {
			if now := cl.hep(h.Name); now == nil || now.ResourceVersion != h.ResourceVersion {
				t.Errorf("hand-made host endpoint %s was touched: now %+v", h.Name, now)
			}
		}
	})
}

// The manifest's ClusterRole (manifests/tricolor.yaml) is all the auto
// host endpoints need with the Kubernetes datastore: created for a node,
// deleted with it.
func TestAutoHostEndpoints_ManifestRBACSuffices(t *testing.T) {
	cl := startCluster(t, true)
	kube, be := cl.impersonate("kube-controllers-as-manifest", manifestClusterRole(t, "calico-kube-controllers").Rules)
	cl.node("node-a")
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(false)
	kcc.Spec.Controllers.Node.HostEndpoint.AutoCreate = "Enabled"
	if _, err := cl.c.Create(context.Background(), kcc); err != nil {
		t.Fatal(err)
	}
	cl.startAs(Config{Environment: envOf(map[string]string{"PROMETHEUS_METRICS_PORT": "0", "DATASTORE_TYPE": "kubernetes"})}, kube, be)
	cl.hepWhen("node-a-auto-hep", "created under the manifest's RBAC", func(h *v3.HostEndpoint) bool { return h != nil })
	if err := cl.kube.CoreV1().Nodes().Delete(context.Background(), "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.hepWhen("node-a-auto-hep", "deleted under the manifest's RBAC", func(h *v3.HostEndpoint) bool { return h == nil })
	cl.kccWhen("the status is written under the manifest's RBAC", func(k *v3.KubeControllersConfiguration) bool {
		n := k.Status.RunningConfig.Controllers.Node
		return n != nil && n.HostEndpoint != nil && n.HostEndpoint.AutoCreate == "Enabled"
	})
}

// manifestClusterRole reads a ClusterRole from manifests/tricolor.yaml.
func manifestClusterRole(t *testing.T, name string) *rbacv1.ClusterRole {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "manifests", "tricolor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var r rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &r); err == nil && r.Kind == "ClusterRole" && r.Name == name {
			return &r
		}
	}
	t.Fatalf("manifests/tricolor.yaml has no ClusterRole %s", name)
	return nil
}

// The addresses of an auto host endpoint: each address Calico uses on
// the node once, without prefix length, in Calico's order, then the
// InternalIP addresses.
func TestAutoHostEndpoint_ExpectedIPs(t *testing.T) {
	n := v3.NewNode()
	n.Name = "node-a"
	n.Labels = map[string]string{"zone": "z1"}
	n.Spec = v3.NodeSpec{
		BGP:                 &v3.NodeBGPSpec{IPv4Address: "198.18.0.2/24", IPv6Address: "fd00:198:18::2/64", IPv4IPIPTunnelAddr: "10.244.0.1"},
		IPv4VXLANTunnelAddr: "10.244.0.2", IPv6VXLANTunnelAddr: "fd00:10:244::2",
		Wireguard: &v3.NodeWireguardSpec{InterfaceIPv4Address: "10.244.0.3", InterfaceIPv6Address: "fd00:10:244::3"},
		Addresses: []v3.NodeAddress{{Address: "198.18.0.2/24", Type: v3.CalicoNodeIP}, {Address: "198.18.0.2", Type: v3.InternalIP},
			{Address: "198.18.1.9", Type: v3.InternalIP}, {Address: "203.0.113.9", Type: v3.ExternalIP}},
	}
	h := autoHostEndpoint(n)
	want := []string{"198.18.0.2", "fd00:198:18::2", "10.244.0.1", "10.244.0.2", "fd00:10:244::2", "10.244.0.3", "fd00:10:244::3", "198.18.1.9"}
	if !slices.Equal(h.Spec.ExpectedIPs, want) {
		t.Errorf("expectedIPs %v, want %v", h.Spec.ExpectedIPs, want)
	}
	if !maps.Equal(h.Labels, map[string]string{"zone": "z1", CreatedByLabel: CreatedByKubeControllers}) || n.Labels[CreatedByLabel] != "" {
		t.Errorf("labels %v (node's now %v)", h.Labels, n.Labels)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("the auto host endpoint is invalid: %v", err)
	}
}

// editNode changes a Calico Node (in the Kubernetes datastore, the
// annotations and labels of the Kubernetes Node), retrying on conflict.
func (cl *cluster) editNode(name string, change func(*v3.Node)) {
	cl.t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := cl.c.Get(context.Background(), v3.KindNode, "", name)
		if err != nil {
			cl.t.Fatal(err)
		}
		n := res.(*v3.Node)
		change(n)
		_, err = cl.c.Update(context.Background(), n)
		if err == nil {
			return
		}
		if !client.IsConflict(err) || attempt == 10 {
			cl.t.Fatal(err)
		}
	}
}

// setKubeLabels replaces the labels of a Kubernetes Node.
func (cl *cluster) setKubeLabels(name string, labels map[string]string) {
	cl.t.Helper()
	nodes := cl.kube.CoreV1().Nodes()
	for attempt := 0; ; attempt++ {
		kn, err := nodes.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			cl.t.Fatal(err)
		}
		kn.Labels = labels
		if _, err = nodes.Update(context.Background(), kn, metav1.UpdateOptions{}); err == nil {
			return
		}
		if attempt == 10 {
			cl.t.Fatal(err)
		}
	}
}

// createHEP creates a host endpoint by hand (eth0 of node).
func (cl *cluster) createHEP(name, node string, labels map[string]string) *v3.HostEndpoint {
	cl.t.Helper()
	h := v3.NewHostEndpoint()
	h.Name, h.Labels = name, labels
	h.Spec = v3.HostEndpointSpec{Node: node, InterfaceName: "eth0", ExpectedIPs: []string{"198.18.0.99"}}
	res, err := cl.c.Create(context.Background(), h)
	if err != nil {
		cl.t.Fatal(err)
	}
	return res.(*v3.HostEndpoint)
}

// hep reads a host endpoint (nil when missing).
func (cl *cluster) hep(name string) *v3.HostEndpoint {
	cl.t.Helper()
	res, err := cl.c.Get(context.Background(), v3.KindHostEndpoint, "", name)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		cl.t.Fatal(err)
	}
	return res.(*v3.HostEndpoint)
}

// hepWhen waits until host endpoint name (nil when missing) satisfies cond.
func (cl *cluster) hepWhen(name, what string, cond func(*v3.HostEndpoint) bool) {
	cl.t.Helper()
	var last *v3.HostEndpoint
	deadline := time.Now().Add(20 * time.Second)
	for last = cl.hep(name); !cond(last); last = cl.hep(name) {
		if time.Now().After(deadline) {
			cl.t.Fatalf("host endpoint %s not %s after 20s; it is %+v", name, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
