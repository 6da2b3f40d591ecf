package conversion

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// IsCalicoPod reports whether a pod has a Calico workload endpoint at all:
// it is scheduled to a node and not host-networked.
func IsCalicoPod(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" && !pod.Spec.HostNetwork
}

// VethName is the host-side interface of a pod's endpoint: "cali" + the
// first 11 hex digits of sha1("<namespace>.<pod>"). It must equal what the
// CNI plugin creates (internal/cni.VethNameForPod, which this package may
// not import: cni sits above the datastore).
func VethName(namespace, pod string) string {
	sum := sha1.Sum([]byte(namespace + "." + pod))
	return "cali" + hex.EncodeToString(sum[:])[:11]
}

// PodToWorkloadEndpoint is the WorkloadEndpoint Calico shows for a pod:
// named "<node>-k8s-<pod>-eth0" (dashes doubled), labelled with the pod's
// labels plus namespace, orchestrator and service account, using the
// profiles kns.<ns> and ksa.<ns>.<sa>, with the pod's IPs (status, then the
// CNI plugin's podIPs/podIP annotations; none once the pod has finished)
// and its named or host-mapped container ports. It fails for pods that are
// not Calico pods (IsCalicoPod) and for malformed IPs or annotations.
func PodToWorkloadEndpoint(pod *corev1.Pod) (*v3.WorkloadEndpoint, error) {
	ref := fmt.Sprintf("pod %s/%s", pod.Namespace, pod.Name)
	switch {
	case pod.Spec.HostNetwork:
		return nil, fmt.Errorf("%s: host-networked pods have no workload endpoint (policy applies to them as host endpoints)", ref)
	case pod.Spec.NodeName == "":
		return nil, fmt.Errorf("%s: not scheduled to a node yet, so it has no workload endpoint", ref)
	}
	spec := v3.WorkloadEndpointSpec{
		Orchestrator:       OrchestratorK8s,
		Node:               pod.Spec.NodeName,
		Pod:                pod.Name,
		Endpoint:           "eth0",
		ContainerID:        pod.Annotations[AnnotationContainerID],
		InterfaceName:      VethName(pod.Namespace, pod.Name),
		ServiceAccountName: pod.Spec.ServiceAccountName,
		Profiles:           []string{NamespaceProfileName(pod.Namespace)},
	}
	if sa := pod.Spec.ServiceAccountName; sa != "" {
		spec.Profiles = append(spec.Profiles, ServiceAccountProfileName(pod.Namespace, sa))
	}
	name, nerr := spec.ExpectedName()
	if nerr != nil {
		return nil, fmt.Errorf("%s: cannot name its workload endpoint: %v", ref, nerr)
	}
	ips, err := podIPs(pod)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if isFinished(pod) {
		// The IPs have been released; the endpoint must not claim them.
		ips = nil
	}
	for _, p := range ips {
		spec.IPNetworks = append(spec.IPNetworks, p.String())
	}
	if spec.IPNATs, err = floatingIPs(pod, ips); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if spec.AllowSpoofedSourcePrefixes, err = sourcePrefixes(pod); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	spec.Ports = namedPorts(pod)

	labels := make(map[string]string, len(pod.Labels)+3)
	for k, v := range pod.Labels {
		labels[k] = v
	}
	labels[LabelNamespace] = pod.Namespace
	labels[LabelOrchestrator] = OrchestratorK8s
	if sa := pod.Spec.ServiceAccountName; sa != "" && len(sa) < 63 {
		// Label values are limited to 63 characters.
		labels[LabelServiceAccount] = sa
	}
	wep := v3.NewWorkloadEndpoint()
	wep.ObjectMeta = metav1.ObjectMeta{
		Name:              name,
		Namespace:         pod.Namespace,
		UID:               pod.UID,
		CreationTimestamp: pod.CreationTimestamp,
		ResourceVersion:   pod.ResourceVersion,
		GenerateName:      pod.GenerateName,
		Labels:            labels,
	}
	wep.Spec = spec
	return wep, nil
}

// isFinished reports a pod that no longer owns its IPs: it succeeded or
// failed, or it is being deleted and the CNI plugin has blanked the podIP
// annotation (its DEL ran).
func isFinished(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		if ip, ok := pod.Annotations[AnnotationPodIP]; ok && ip == "" {
			return true
		}
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, "Completed":
		return true
	}
	return false
}

// podIPs returns the pod's addresses as host prefixes, from the first
// source that has any: status.podIPs, status.podIP, the podIPs annotation,
// the podIP annotation.
func podIPs(pod *corev1.Pod) ([]netip.Prefix, error) {
	var raw []string
	var source string
	switch {
	case len(pod.Status.PodIPs) > 0:
		for _, ip := range pod.Status.PodIPs {
			raw = append(raw, ip.IP)
		}
		source = "status.podIPs"
	case pod.Status.PodIP != "":
		raw, source = []string{pod.Status.PodIP}, "status.podIP"
	case pod.Annotations[AnnotationPodIPs] != "":
		raw, source = strings.Split(pod.Annotations[AnnotationPodIPs], ","), "annotation "+AnnotationPodIPs
	case pod.Annotations[AnnotationPodIP] != "":
		raw, source = []string{pod.Annotations[AnnotationPodIP]}, "annotation "+AnnotationPodIP
	}
	var out []netip.Prefix
	for _, s := range raw {
		p, err := parseIPOrCIDR(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither an IP address nor a CIDR; fix the value (the CNI plugin writes e.g. 10.244.1.5/32)", source, s)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseIPOrCIDR parses "10.0.0.1" as 10.0.0.1/32 and a CIDR as its network.
func parseIPOrCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// floatingIPs maps the floatingIPs annotation onto the pod's first IPv4 and
// IPv6 address.
func floatingIPs(pod *corev1.Pod, ips []netip.Prefix) ([]v3.IPNAT, error) {
	ann, ok := pod.Annotations[AnnotationFloatingIPs]
	if !ok || len(ips) == 0 {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(ann), &list); err != nil {
		return nil, fmt.Errorf("annotation %s=%q is not a JSON list of addresses: %v", AnnotationFloatingIPs, ann, err)
	}
	var v4, v6 *netip.Prefix
	for i := range ips {
		if ips[i].Addr().Is4() && v4 == nil {
			v4 = &ips[i]
		} else if ips[i].Addr().Is6() && v6 == nil {
			v6 = &ips[i]
		}
	}
	var out []v3.IPNAT
	for _, ext := range list {
		inner := v4
		if strings.Contains(ext, ":") {
			inner = v6
		}
		if inner != nil {
			out = append(out, v3.IPNAT{InternalIP: inner.Addr().String(), ExternalIP: ext})
		}
	}
	return out, nil
}

// sourcePrefixes reads the allowedSourcePrefixes annotation, normalised.
func sourcePrefixes(pod *corev1.Pod) ([]string, error) {
	ann := pod.Annotations[AnnotationAllowedSourcePrefixes]
	if ann == "" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(ann), &list); err != nil {
		return nil, fmt.Errorf("annotation %s=%q is not a JSON list of CIDRs: %v", AnnotationAllowedSourcePrefixes, ann, err)
	}
	var out []string
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %q is not a CIDR", AnnotationAllowedSourcePrefixes, s)
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// namedPorts lists the container ports policy can refer to: named ones and
// host-mapped ones, with protocol TCP (the default), UDP or SCTP.
func namedPorts(pod *corev1.Pod) []v3.WorkloadEndpointPort {
	var out []v3.WorkloadEndpointPort
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.ContainerPort == 0 || (p.Name == "" && p.HostPort == 0) {
				continue
			}
			var proto string
			switch p.Protocol {
			case corev1.ProtocolTCP, "":
				proto = "TCP"
			case corev1.ProtocolUDP:
				proto = "UDP"
			case corev1.ProtocolSCTP:
				proto = "SCTP"
			default:
				continue
			}
			out = append(out, v3.WorkloadEndpointPort{
				Name:     p.Name,
				Protocol: numorstring.ProtocolFromString(proto),
				Port:     uint16(p.ContainerPort),
				HostPort: uint16(p.HostPort),
				HostIP:   p.HostIP,
			})
		}
	}
	return out
}
