package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// kddCluster is a real kube-apiserver with Tricolor's CRDs and the
// environment calicoctl reaches it by (DATASTORE_TYPE=kubernetes +
// KUBECONFIG).
type kddCluster struct {
	t          *testing.T
	kubeconfig string
	cs         kubernetes.Interface
	kdd        *k8s.KDD
}

func newKDDCluster(t *testing.T) *kddCluster {
	t.Helper()
	rc := testutil.StartKubeAPIServer(t)
	kdd, err := k8s.NewKDD(rc)
	if err != nil {
		t.Fatal(err)
	}
	return &kddCluster{t: t, kubeconfig: testutil.WriteKubeconfig(t, rc), cs: kubernetes.NewForConfigOrDie(rc), kdd: kdd}
}

// run executes calicoctl against the API server; returns stdout, stderr
// and the exit code.
func (c *kddCluster) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(filteredEnv(), "DATASTORE_TYPE=kubernetes", "KUBECONFIG="+c.kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run calicoctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (c *kddCluster) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("calicoctl %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// seed creates what a Kubernetes cluster would have: a node with its
// InternalIP, a labelled namespace, a running pod with an IP and a
// NetworkPolicy.
func (c *kddCluster) seed() {
	c.t.Helper()
	ctx := context.Background()
	node, err := c.cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kdd-node-1"}}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.18.0.31"}}
	if _, err := c.cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "blue"}}}, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.cs.CoreV1().ServiceAccounts("shop").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	pod, err := c.cs.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "kdd-node-1", ServiceAccountName: "web", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = "10.244.7.5"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.244.7.5"}}
	if _, err := c.cs.CoreV1().Pods("shop").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "web-ingress", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	if _, err := c.cs.NetworkingV1().NetworkPolicies("shop").Create(ctx, np, metav1.CreateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// TestCalicoctl_KubernetesDatastore runs the calicoctl binary with
// DATASTORE_TYPE=kubernetes and KUBECONFIG against a real API server.
func TestCalicoctl_KubernetesDatastore(t *testing.T) {
	c := newKDDCluster(t)
	c.seed()

	c.ok(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: kdd-pool
spec:
  cidr: 10.244.0.0/16
  blockSize: 26
  vxlanMode: Always
  natOutgoing: true
`, "apply", "-f", "-")
	if out := c.ok("", "get", "ippools", "-o", "wide"); !strings.Contains(out, "kdd-pool") || !strings.Contains(out, "10.244.0.0/16") {
		t.Errorf("get ippools:\n%s", out)
	}

	// Addresses come from the IPAM CRDs (blocks, affinities, handles).
	im := ipam.New(c.kdd, ipam.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, _, err := im.AutoAssign(context.Background(), ipam.AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network.web-0-cid", Hostname: "kdd-node-1",
		Attrs: map[string]string{ipam.AttrNamespace: "shop", ipam.AttrPod: "web-0"}}); err != nil {
		t.Fatalf("assign an address through the kubernetes datastore: %v", err)
	}

	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"get", "nodes", "-o", "wide"}, []string{"kdd-node-1"}},
		{[]string{"get", "node", "kdd-node-1", "-o", "yaml"}, []string{"orchestrator: k8s", "198.18.0.31", "type: InternalIP"}},
		{[]string{"get", "workloadendpoints", "-n", "shop", "-o", "wide"}, []string{"web-0", "kdd-node-1", "10.244.7.5/32", "kns.shop,ksa.shop.web"}},
		{[]string{"get", "profiles"}, []string{"kns.shop", "ksa.shop.web", "kns.default"}},
		{[]string{"get", "profile", "kns.shop", "-o", "yaml"}, []string{"pcns.team: blue"}},
		{[]string{"get", "networkpolicies", "-n", "shop"}, []string{"knp.default.web-ingress"}},
		{[]string{"get", "networkpolicy", "knp.default.web-ingress", "-n", "shop", "-o", "yaml"}, []string{"projectcalico.org/orchestrator == 'k8s' && app == 'web'"}},
		{[]string{"ipam", "show"}, []string{"10.244.0.0/16", "IP Pool"}},
		{[]string{"ipam", "show", "--show-blocks"}, []string{"Block", "/26"}},
	}
	for _, tt := range tests {
		out := c.ok("", tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("calicoctl %s: output lacks %q:\n%s", strings.Join(tt.args, " "), w, out)
			}
		}
	}

	refusals := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"delete", "workloadendpoint", "kdd--node--1-k8s-web--0-eth0", "-n", "shop"}, "derived from Pods"},
		{"", []string{"delete", "profile", "kns.shop"}, "label the Namespace"},
		{"", []string{"delete", "networkpolicy", "knp.default.web-ingress", "-n", "shop"}, "Kubernetes NetworkPolicy"},
		{"", []string{"delete", "node", "kdd-node-1"}, "kubelet"},
		{"apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: extra\n", []string{"create", "-f", "-"}, "Namespaces"},
	}
	for _, r := range refusals {
		out, errOut, code := c.run(r.stdin, r.args...)
		if code == 0 || !strings.Contains(out+errOut, r.want) {
			t.Errorf("calicoctl %s: exit %d, output %q%q; want a refusal mentioning %q", strings.Join(r.args, " "), code, out, errOut, r.want)
		}
	}
	// --context selects the kubeconfig context, as in calicoctl.
	c.ok("", "get", "nodes", "--context", "test")
	if out, errOut, code := c.run("", "get", "nodes", "--context", "nope"); code == 0 || !strings.Contains(out+errOut, `"nope"`) {
		t.Errorf("get nodes --context nope: exit %d, %q%q; want an error naming the context", code, out, errOut)
	}
	// A Calico NetworkPolicy (the CRD) sits beside the Kubernetes one.
	c.ok("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: calico-extra\n  namespace: shop\nspec:\n  selector: all()\n", "create", "-f", "-")
	if out := c.ok("", "get", "networkpolicies", "-n", "shop"); !strings.Contains(out, "calico-extra") || !strings.Contains(out, "knp.default.web-ingress") {
		t.Errorf("get networkpolicies after adding a Calico policy:\n%s", out)
	}
}
