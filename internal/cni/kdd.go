package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ktypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// LabelServiceAccount is the label Calico gives a Kubernetes workload for
// its service account.
const LabelServiceAccount = "projectcalico.org/serviceaccount"

// kubeAPI is the plugin's access to the Kubernetes API in Kubernetes
// datastore mode: the pod's labels, annotations and service account come
// from there, and the pod's IPs go back as annotations (the
// WorkloadEndpoint is derived from the Pod, never written).
type kubeAPI struct {
	core kubernetes.Interface
}

// restConfigFor loads the kubeconfig the network config names.
func restConfigFor(conf *NetConf) (*rest.Config, error) {
	path := conf.Kubernetes.Kubeconfig
	if path == "" {
		return nil, fmt.Errorf("network config %q: datastore_type kubernetes needs kubernetes.kubeconfig (e.g. /etc/cni/net.d/calico-kubeconfig, written by calico-node install-cni)", conf.Name)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s (network config %q, kubernetes.kubeconfig): %w", path, conf.Name, err)
	}
	if conf.Kubernetes.K8sAPIRoot != "" {
		cfg.Host = conf.Kubernetes.K8sAPIRoot
	}
	return cfg, nil
}

func newKubeAPI(cfg *rest.Config) (*kubeAPI, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	return &kubeAPI{core: cs}, nil
}

// loadPod fills the workload from its Pod (and the pod's Namespace): the
// pod's labels with Calico's namespace, orchestrator and service-account
// labels, the pod's annotations (pool and address requests), the profiles
// kns.<namespace> and ksa.<namespace>.<serviceaccount>. Pool annotations on
// the namespace apply when the pod has none, as in Calico.
func (k *kubeAPI) loadPod(ctx context.Context, w *Workload) error {
	pod, err := k.core.CoreV1().Pods(w.Namespace).Get(ctx, w.Pod, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pod %s/%s: %w", w.Namespace, w.Pod, err)
	}
	ns, err := k.core.CoreV1().Namespaces().Get(ctx, w.Namespace, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get namespace %s: %w", w.Namespace, err)
	}
	ann := map[string]string{}
	if ns != nil {
		for _, a := range []string{AnnotationIPv4Pools, AnnotationIPv6Pools} {
			if v := ns.Annotations[a]; v != "" {
				ann[a] = v
			}
		}
	}
	for key, v := range pod.Annotations {
		ann[key] = v
	}
	w.Annotations = ann
	w.Labels = map[string]string{}
	for key, v := range pod.Labels {
		w.Labels[key] = v
	}
	w.Labels[LabelNamespace] = w.Namespace
	w.Labels[LabelOrchestrator] = OrchestratorK8s
	w.ServiceAccount = pod.Spec.ServiceAccountName
	if w.ServiceAccount != "" {
		w.Labels[LabelServiceAccount] = w.ServiceAccount
	}
	return w.applyAnnotations()
}

// setPodIPs records the pod's addresses the way Calico's plugin does in
// Kubernetes datastore mode: annotations podIP (first address), podIPs
// (all, comma-separated) and containerID, in one merge patch.
func (k *kubeAPI) setPodIPs(ctx context.Context, w *Workload, addrs []netip.Addr) error {
	var ips []string
	for _, a := range addrs {
		ips = append(ips, netip.PrefixFrom(a, a.BitLen()).String())
	}
	first := ""
	if len(ips) > 0 {
		first = ips[0]
	}
	return k.patchAnnotations(ctx, w, map[string]*string{
		conversion.AnnotationPodIP:       &first,
		conversion.AnnotationPodIPs:      ptr(strings.Join(ips, ",")),
		conversion.AnnotationContainerID: &w.ContainerID,
	})
}

// clearPodIPs blanks podIP and podIPs on DEL if the pod's containerID
// annotation still names this container (a newer sandbox of the same pod
// may own them). A pod that is gone is fine. It reports whether it cleared.
func (k *kubeAPI) clearPodIPs(ctx context.Context, w *Workload) (bool, error) {
	pod, err := k.core.CoreV1().Pods(w.Namespace).Get(ctx, w.Pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get pod %s/%s: %w", w.Namespace, w.Pod, err)
	}
	if id := pod.Annotations[conversion.AnnotationContainerID]; id != "" && id != w.ContainerID {
		return false, nil
	}
	if _, ok := pod.Annotations[conversion.AnnotationPodIP]; !ok {
		return false, nil
	}
	empty := ""
	err = k.patchAnnotations(ctx, w, map[string]*string{
		conversion.AnnotationPodIP:  &empty,
		conversion.AnnotationPodIPs: &empty,
	})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// podAnnotations returns the pod's current Calico IP annotations (CHECK).
func (k *kubeAPI) podAnnotations(ctx context.Context, w *Workload) (map[string]string, error) {
	pod, err := k.core.CoreV1().Pods(w.Namespace).Get(ctx, w.Pod, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", w.Namespace, w.Pod, err)
	}
	return pod.Annotations, nil
}

// patchAnnotations merge-patches the pod's annotations (a nil value
// removes the key).
func (k *kubeAPI) patchAnnotations(ctx context.Context, w *Workload, set map[string]*string) error {
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": set}})
	if err != nil {
		return err
	}
	_, err = k.core.CoreV1().Pods(w.Namespace).Patch(ctx, w.Pod, ktypes.MergePatchType, body, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("annotate pod %s/%s with its IPs: %w", w.Namespace, w.Pod, err)
	}
	return nil
}

// checkPodIPs compares the pod's annotations with the addresses of ADD.
func checkPodIPs(ann map[string]string, w *Workload, addrs []netip.Addr) []string {
	var ips []string
	for _, a := range addrs {
		ips = append(ips, netip.PrefixFrom(a, a.BitLen()).String())
	}
	var problems []string
	cmp := func(key, want string) {
		if got := ann[key]; got != want {
			problems = append(problems, fmt.Sprintf("pod %s/%s: annotation %s is %q; want %q", w.Namespace, w.Pod, key, got, want))
		}
	}
	cmp(conversion.AnnotationContainerID, w.ContainerID)
	cmp(conversion.AnnotationPodIPs, strings.Join(ips, ","))
	return problems
}

func ptr[T any](v T) *T { return &v }
