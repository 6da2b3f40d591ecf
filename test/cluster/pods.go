package cluster

import (
	"context"
	"fmt"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/cni"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// RunPod creates an agnhost pod (serving HTTP on 8080 and UDP on 8081)
// bound to node and returns it once Running with an IP.
func (c *Cluster) RunPod(ctx context.Context, namespace, name, node string, labels map[string]string) (*corev1.Pod, error) {
	zero := int64(0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			TerminationGracePeriodSeconds: &zero,
			Containers: []corev1.Container{{Name: "agnhost", Image: AgnhostImage, ImagePullPolicy: corev1.PullNever,
				Args: []string{"netexec", "--http-port=8080", "--udp-port=8081"}}},
		},
	}
	if _, err := c.Kube.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", namespace, name, err)
	}
	return c.WaitPodRunning(ctx, namespace, name)
}

// WaitPodRunning waits until the pod is Running and Ready with an IP.
func (c *Cluster) WaitPodRunning(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	var last string
	for {
		p, err := c.Kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && podReady(p) {
			return p, nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("phase %s, IP %q, conditions %v", p.Status.Phase, p.Status.PodIP, p.Status.Conditions)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pod %s/%s not Running: %s; events:\n%s", namespace, name, last, c.events(namespace, name))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// events lists the pod's events (for failure messages).
func (c *Cluster) events(namespace, name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := c.Kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		return err.Error()
	}
	out := ""
	for _, e := range evs.Items {
		out += fmt.Sprintf("  %s %s: %s\n", e.Type, e.Reason, e.Message)
	}
	return out
}

// Node returns the named node.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

var linkNetns = regexp.MustCompile(`link-netns (\S+)`)

// PodNetns is the pod's network namespace name, found from its host
// veth (Calico's cali name for the pod) on its node.
func (c *Cluster) PodNetns(p *corev1.Pod) (string, error) {
	n := c.Node(p.Spec.NodeName)
	if n == nil {
		return "", fmt.Errorf("pod %s/%s is on unknown node %q", p.Namespace, p.Name, p.Spec.NodeName)
	}
	veth := cni.VethNameForPod(p.Namespace, p.Name)
	out, err := testutil.Run("ip", "-n", n.NS.Name, "-o", "link", "show", veth)
	if err != nil {
		return "", err
	}
	m := linkNetns.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("host veth %s of pod %s/%s names no peer namespace: %s", veth, p.Namespace, p.Name, out)
	}
	return m[1], nil
}

// Ping pings addr once from inside the pod's network namespace, waiting
// up to 2 s for the answer.
func (c *Cluster) Ping(from *corev1.Pod, addr string) error { return c.pingWithin(from, addr, "2") }

// pingWithin is one ping waiting wait seconds (ping -W) for the answer.
func (c *Cluster) pingWithin(from *corev1.Pod, addr, wait string) error {
	ns, err := c.PodNetns(from)
	if err != nil {
		return err
	}
	_, err = testutil.Run("nsenter", "--net=/run/netns/"+ns, "ping", "-c", "1", "-W", wait, addr)
	return err
}

// podReady reports the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
