package cni

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/tricolor-net/tricolor/internal/ipam"
)

// Orchestrators a workload can come from.
const (
	OrchestratorK8s = "k8s"
	OrchestratorCNI = "cni"
)

// Calico's pod annotations, honoured when they arrive through the runtime
// (runtimeConfig pod annotations or args.cni.annotations).
const (
	AnnotationIPv4Pools = "cni.projectcalico.org/ipv4pools"
	AnnotationIPv6Pools = "cni.projectcalico.org/ipv6pools"
	AnnotationIPAddrs   = "cni.projectcalico.org/ipAddrs"
)

// Labels Calico puts on every Kubernetes workload endpoint.
const (
	LabelNamespace    = "projectcalico.org/namespace"
	LabelOrchestrator = "projectcalico.org/orchestrator"
)

// Workload is who an ADD or DEL is for, worked out from the CNI arguments.
type Workload struct {
	// Orchestrator is "k8s" when CNI_ARGS names a pod, else "cni".
	Orchestrator string
	Namespace    string
	Pod          string
	ContainerID  string
	IfName       string
	NetNS        string
	Node         string
	Network      string
	// Labels are the endpoint's labels (args.cni.labels plus Calico's).
	Labels map[string]string
	// Annotations are the pod's annotations: from the Kubernetes API in
	// Kubernetes datastore mode, else those the runtime passed.
	Annotations map[string]string
	// ServiceAccount is the pod's service account (Kubernetes datastore
	// mode only; it adds the ksa.<namespace>.<name> profile).
	ServiceAccount string
	// RequestedIPs are specific addresses asked for (ipAddrs annotation,
	// args.cni.ips or the ips capability).
	RequestedIPs []netip.Addr
	// IPv4Pools and IPv6Pools override the config's pools (annotations).
	IPv4Pools, IPv6Pools []string

	// confIPs are the addresses asked for through the CNI ips convention.
	confIPs []string
}

// ParseCNIArgs splits CNI_ARGS ("K=V;K2=V2") into a map. Keys Calico does
// not know are kept; a pair without '=' is an error.
func ParseCNIArgs(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ";") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("CNI_ARGS: %q is not KEY=VALUE; separate pairs with ';'", pair)
		}
		out[k] = v
	}
	return out, nil
}

// NewWorkload derives the workload from the config and the CNI arguments.
func NewWorkload(conf *NetConf, containerID, netns, ifName, cniArgs, node string) (*Workload, error) {
	args, err := ParseCNIArgs(cniArgs)
	if err != nil {
		return nil, err
	}
	w := &Workload{
		Orchestrator: OrchestratorCNI,
		Namespace:    "default",
		ContainerID:  containerID,
		IfName:       ifName,
		NetNS:        netns,
		Node:         node,
		Network:      conf.Name,
		Labels:       map[string]string{},
		Annotations:  map[string]string{},
	}
	if pod := args["K8S_POD_NAME"]; pod != "" {
		w.Orchestrator, w.Pod = OrchestratorK8s, pod
		if ns := args["K8S_POD_NAMESPACE"]; ns != "" {
			w.Namespace = ns
		}
	}
	for _, l := range conf.Args.CNI.Labels {
		w.Labels[l.Key] = l.Value
	}
	for k, v := range conf.Args.CNI.Annotations {
		w.Annotations[k] = v
	}
	for k, v := range conf.RuntimeConfig.PodAnnotations {
		w.Annotations[k] = v
	}
	if w.Orchestrator == OrchestratorK8s {
		w.Labels[LabelNamespace] = w.Namespace
		w.Labels[LabelOrchestrator] = OrchestratorK8s
	}
	w.confIPs = append(append([]string(nil), conf.Args.CNI.IPs...), conf.RuntimeConfig.IPs...)
	if err := w.applyAnnotations(); err != nil {
		return nil, err
	}
	return w, nil
}

// applyAnnotations works out the address requests: the CNI ips convention
// plus the ipAddrs annotation, and the pools of the ipv4pools / ipv6pools
// annotations.
func (w *Workload) applyAnnotations() error {
	ips := append([]string(nil), w.confIPs...)
	if v := w.Annotations[AnnotationIPAddrs]; v != "" {
		var list []string
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("annotation %s=%q is not a JSON list of addresses, e.g. [\"10.244.1.5\"]: %v", AnnotationIPAddrs, v, err)
		}
		ips = append(ips, list...)
	}
	w.RequestedIPs = nil
	for _, s := range ips {
		// The ips convention allows CIDR notation; the prefix length is ignored.
		addr, err := netip.ParseAddr(strings.SplitN(s, "/", 2)[0])
		if err != nil {
			return fmt.Errorf("requested IP %q is not an address: %v", s, err)
		}
		w.RequestedIPs = append(w.RequestedIPs, addr)
	}
	w.IPv4Pools, w.IPv6Pools = nil, nil
	for ann, dst := range map[string]*[]string{AnnotationIPv4Pools: &w.IPv4Pools, AnnotationIPv6Pools: &w.IPv6Pools} {
		if v := w.Annotations[ann]; v != "" {
			if err := json.Unmarshal([]byte(v), dst); err != nil {
				return fmt.Errorf("annotation %s=%q is not a JSON list of pool names or CIDRs: %v", ann, v, err)
			}
		}
	}
	return nil
}

// HostVethName is Calico's host-side interface name: "cali" + the first 11
// hex digits of sha1("<namespace>.<pod>") for Kubernetes pods (stable across
// container restarts, so Felix's rules keep matching), or "cali" + the first
// 11 characters of the container ID otherwise.
func (w *Workload) HostVethName() string {
	if w.Orchestrator == OrchestratorK8s {
		return VethNameForPod(w.Namespace, w.Pod)
	}
	id := w.ContainerID
	if len(id) > 11 {
		id = id[:11]
	}
	return "cali" + id
}

// VethNameForPod is "cali" + the first 11 hex digits of sha1("<ns>.<pod>").
func VethNameForPod(namespace, pod string) string {
	sum := sha1.Sum([]byte(namespace + "." + pod))
	return "cali" + hex.EncodeToString(sum[:])[:11]
}

// HandleID is the IPAM handle of this workload's addresses, as Calico
// names it: "<network name>.<container ID>" — with Calico's usual network
// name that is ipam.WorkloadHandlePrefix + container ID
// ("k8s-pod-network.<id>"). Keeping the network in the handle lets GC
// touch only its own network's addresses.
func (w *Workload) HandleID() string { return HandleID(w.Network, w.ContainerID) }

// HandleID is "<network>.<containerID>".
func HandleID(network, containerID string) string { return network + "." + containerID }

// IPAMAttrs are the attributes stored with each allocation.
func (w *Workload) IPAMAttrs() map[string]string {
	a := map[string]string{ipam.AttrNode: w.Node}
	if w.Orchestrator == OrchestratorK8s {
		a[ipam.AttrNamespace], a[ipam.AttrPod] = w.Namespace, w.Pod
	}
	return a
}

// Profiles are the endpoint's profiles: kns.<namespace> for Kubernetes
// pods, the network's name for plain CNI workloads (as Calico).
func (w *Workload) Profiles() []string {
	if w.Orchestrator == OrchestratorK8s {
		if w.ServiceAccount != "" {
			return []string{"kns." + w.Namespace, "ksa." + w.Namespace + "." + w.ServiceAccount}
		}
		return []string{"kns." + w.Namespace}
	}
	return []string{w.Network}
}

// sortedKeys returns a map's keys in order (stable messages).
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
