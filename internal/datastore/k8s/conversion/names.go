package conversion

// Name prefixes of the Calico resources backed by Kubernetes objects.
const (
	// NamespaceProfilePrefix prefixes the Profile of a Namespace.
	NamespaceProfilePrefix = "kns."
	// ServiceAccountProfilePrefix prefixes the Profile of a ServiceAccount.
	ServiceAccountProfilePrefix = "ksa."
	// NetworkPolicyPrefix prefixes the Calico view of a Kubernetes
	// NetworkPolicy (it lives in the default tier).
	NetworkPolicyPrefix = "knp.default."
)

// Label prefixes under which a Profile re-exports its source's labels.
const (
	// NamespaceLabelPrefix prefixes a Namespace's labels in its Profile.
	NamespaceLabelPrefix = "pcns."
	// ServiceAccountLabelPrefix prefixes a ServiceAccount's labels.
	ServiceAccountLabelPrefix = "pcsa."
)

// Labels Calico adds to Kubernetes-backed endpoints and profiles.
const (
	// LabelName carries the Namespace or ServiceAccount name (as
	// pcns.projectcalico.org/name, pcsa.projectcalico.org/name) so selectors
	// can match it exactly.
	LabelName = "projectcalico.org/name"
	// LabelNamespace is the pod's namespace on its endpoint.
	LabelNamespace = "projectcalico.org/namespace"
	// LabelOrchestrator is "k8s" on Kubernetes endpoints.
	LabelOrchestrator = "projectcalico.org/orchestrator"
	// LabelServiceAccount is the pod's service account on its endpoint.
	LabelServiceAccount = "projectcalico.org/serviceaccount"
)

// Pod annotations written by the Calico CNI plugin and read back here.
const (
	// AnnotationPodIP is the pod's first IP ("" once CNI DEL released it).
	AnnotationPodIP = "cni.projectcalico.org/podIP"
	// AnnotationPodIPs lists all of the pod's IPs, comma-separated.
	AnnotationPodIPs = "cni.projectcalico.org/podIPs"
	// AnnotationContainerID is the pod's sandbox container ID.
	AnnotationContainerID = "cni.projectcalico.org/containerID"
	// AnnotationFloatingIPs lists 1:1 NAT addresses (JSON list).
	AnnotationFloatingIPs = "cni.projectcalico.org/floatingIPs"
	// AnnotationAllowedSourcePrefixes lists CIDRs the pod may spoof (JSON list).
	AnnotationAllowedSourcePrefixes = "cni.projectcalico.org/allowedSourcePrefixes"
)

// OrchestratorK8s is the orchestrator of Kubernetes workload endpoints.
const OrchestratorK8s = "k8s"

// NetworkPolicyOrder is the order every converted Kubernetes NetworkPolicy
// gets, as in Calico.
const NetworkPolicyOrder = 1000.0
