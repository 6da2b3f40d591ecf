package v3

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindKubeControllersConfiguration is the KubeControllersConfiguration kind.
const KindKubeControllersConfiguration = "KubeControllersConfiguration"

// KubeControllersConfigurationName is the only name Calico accepts.
const KubeControllersConfigurationName = "default"

// KubeControllersConfiguration configures calico-kube-controllers. A nil
// controller section disables that controller; status reports the
// configuration actually running (after environment overrides).
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status
type KubeControllersConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   KubeControllersConfigurationSpec   `json:"spec,omitempty"`
	Status KubeControllersConfigurationStatus `json:"status,omitempty"`
}

// KubeControllersConfigurationSpec is the desired controller configuration.
type KubeControllersConfigurationSpec struct {
	// LogSeverityScreen is the log level (default Info).
	LogSeverityScreen string `json:"logSeverityScreen,omitempty"`
	// HealthChecks is Enabled (default) or Disabled.
	HealthChecks string `json:"healthChecks,omitempty"`
	// EtcdV3CompactionPeriod is how often etcd is compacted (etcd mode; 0 disables).
	EtcdV3CompactionPeriod *metav1.Duration `json:"etcdV3CompactionPeriod,omitempty"`
	// PrometheusMetricsPort serves metrics on this port; 0 disables (default 9094).
	PrometheusMetricsPort *int `json:"prometheusMetricsPort,omitempty"`
	// Controllers enables and configures each controller. Always encoded.
	Controllers ControllersConfig `json:"controllers"`
	// DebugProfilePort serves pprof on this port; unset or 0 disables.
	DebugProfilePort *int32 `json:"debugProfilePort,omitempty"`
}

// ControllersConfig has one section per controller; nil disables it.
type ControllersConfig struct {
	// Node garbage-collects node data and syncs labels.
	Node *NodeControllerConfig `json:"node,omitempty"`
	// Policy syncs Kubernetes NetworkPolicy (etcd mode).
	Policy *PolicyControllerConfig `json:"policy,omitempty"`
	// WorkloadEndpoint syncs pod labels to endpoints (etcd mode).
	WorkloadEndpoint *WorkloadEndpointControllerConfig `json:"workloadEndpoint,omitempty"`
	// ServiceAccount syncs service accounts to profiles (etcd mode).
	ServiceAccount *ServiceAccountControllerConfig `json:"serviceAccount,omitempty"`
	// Namespace syncs namespaces to profiles (etcd mode).
	Namespace *NamespaceControllerConfig `json:"namespace,omitempty"`
	// LoadBalancer assigns LoadBalancer service IPs from Calico pools.
	LoadBalancer *LoadBalancerControllerConfig `json:"loadBalancer,omitempty"`
}

// NodeControllerConfig configures the node controller.
type NodeControllerConfig struct {
	// ReconcilerPeriod is the full resync interval (default 5m).
	ReconcilerPeriod *metav1.Duration `json:"reconcilerPeriod,omitempty"`
	// SyncLabels copies Kubernetes node labels to Calico nodes: Enabled or Disabled.
	SyncLabels string `json:"syncLabels,omitempty"`
	// HostEndpoint controls automatic host endpoints.
	HostEndpoint *AutoHostEndpointConfig `json:"hostEndpoint,omitempty"`
	// LeakGracePeriod is how long an IP must look leaked before it is
	// released (default 15m; 0 disables IP garbage collection).
	LeakGracePeriod *metav1.Duration `json:"leakGracePeriod,omitempty"`
}

// AutoHostEndpointConfig controls automatic host endpoint creation.
type AutoHostEndpointConfig struct {
	// AutoCreate is Enabled or Disabled (default).
	AutoCreate string `json:"autoCreate,omitempty"`
	// CreateDefaultHostEndpoint creates the "*" host endpoint per node: Enabled or Disabled.
	CreateDefaultHostEndpoint DefaultHostEndpointMode `json:"createDefaultHostEndpoint,omitempty"`
	// Templates create extra host endpoints for matching nodes and interfaces.
	Templates []Template `json:"templates,omitempty"`
}

// DefaultHostEndpointMode is Enabled or Disabled.
type DefaultHostEndpointMode string

// Default host endpoint modes.
const (
	DefaultHostEndpointsEnabled  DefaultHostEndpointMode = "Enabled"
	DefaultHostEndpointsDisabled DefaultHostEndpointMode = "Disabled"
)

// Template describes host endpoints to create automatically.
type Template struct {
	// GenerateName is the prefix of the created host endpoints' names.
	GenerateName string `json:"generateName,omitempty"`
	// InterfaceCIDRs picks the node addresses to include.
	InterfaceCIDRs []string `json:"interfaceCIDRs,omitempty"`
	// InterfaceSelector is a regular expression over interface names.
	InterfaceSelector string `json:"interfaceSelector,omitempty"`
	// Labels are added to the created host endpoints.
	Labels map[string]string `json:"labels,omitempty"`
	// NodeSelector picks the nodes the template applies to.
	NodeSelector string `json:"nodeSelector,omitempty"`
}

// PolicyControllerConfig configures the policy controller.
type PolicyControllerConfig struct {
	// ReconcilerPeriod is the full resync interval (default 5m).
	ReconcilerPeriod *metav1.Duration `json:"reconcilerPeriod,omitempty"`
}

// WorkloadEndpointControllerConfig configures the workload endpoint controller.
type WorkloadEndpointControllerConfig struct {
	// ReconcilerPeriod is the full resync interval (default 5m).
	ReconcilerPeriod *metav1.Duration `json:"reconcilerPeriod,omitempty"`
}

// ServiceAccountControllerConfig configures the service account controller.
type ServiceAccountControllerConfig struct {
	// ReconcilerPeriod is the full resync interval (default 5m).
	ReconcilerPeriod *metav1.Duration `json:"reconcilerPeriod,omitempty"`
}

// NamespaceControllerConfig configures the namespace controller.
type NamespaceControllerConfig struct {
	// ReconcilerPeriod is the full resync interval (default 5m).
	ReconcilerPeriod *metav1.Duration `json:"reconcilerPeriod,omitempty"`
}

// LoadBalancerControllerConfig configures LoadBalancer IP assignment.
type LoadBalancerControllerConfig struct {
	// AssignIPs is AllServices (default) or RequestedServicesOnly.
	AssignIPs AssignIPs `json:"assignIPs,omitempty"`
}

// AssignIPs says which LoadBalancer services get an IP.
type AssignIPs string

// LoadBalancer IP assignment modes.
const (
	AllServices           AssignIPs = "AllServices"
	RequestedServicesOnly AssignIPs = "RequestedServicesOnly"
)

// KubeControllersConfigurationStatus is what the controllers report.
type KubeControllersConfigurationStatus struct {
	// RunningConfig is the effective configuration.
	RunningConfig KubeControllersConfigurationSpec `json:"runningConfig,omitempty"`
	// EnvironmentVars are the environment variables that overrode the spec.
	EnvironmentVars map[string]string `json:"environmentVars,omitempty"`
}

// KubeControllersConfigurationList is a list of KubeControllersConfigurations.
//
// +kubebuilder:object:root=true
type KubeControllersConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KubeControllersConfiguration `json:"items"`
}

// NewKubeControllersConfiguration returns an empty KubeControllersConfiguration with its TypeMeta set.
func NewKubeControllersConfiguration() *KubeControllersConfiguration {
	return &KubeControllersConfiguration{TypeMeta: typeMeta(KindKubeControllersConfiguration)}
}

// NewKubeControllersConfigurationList returns an empty KubeControllersConfigurationList with its TypeMeta set.
func NewKubeControllersConfigurationList() *KubeControllersConfigurationList {
	return &KubeControllersConfigurationList{TypeMeta: typeMeta(KindKubeControllersConfiguration + "List")}
}

// Default does nothing to a user's resource: a nil controller section means
// "disabled", so filling sections in would change behaviour. The stock
// configuration kube-controllers creates when none exists is
// DefaultKubeControllersConfigurationSpec.
func (c *KubeControllersConfiguration) Default() {}

// DefaultKubeControllersConfigurationSpec returns the configuration Calico's
// kube-controllers writes as "default" when none exists (Kubernetes
// datastore: node and loadBalancer controllers on; with etcd the policy,
// workloadEndpoint, serviceAccount and namespace controllers are on too).
func DefaultKubeControllersConfigurationSpec(etcdDatastore bool) KubeControllersConfigurationSpec {
	five := &metav1.Duration{Duration: 5 * time.Minute}
	port := 9094
	s := KubeControllersConfigurationSpec{
		LogSeverityScreen:      "Info",
		HealthChecks:           "Enabled",
		EtcdV3CompactionPeriod: &metav1.Duration{Duration: 10 * time.Minute},
		PrometheusMetricsPort:  &port,
		Controllers: ControllersConfig{
			Node: &NodeControllerConfig{
				ReconcilerPeriod: five.DeepCopy(),
				SyncLabels:       "Enabled",
				HostEndpoint:     &AutoHostEndpointConfig{AutoCreate: "Disabled"},
				LeakGracePeriod:  &metav1.Duration{Duration: 15 * time.Minute},
			},
			LoadBalancer: &LoadBalancerControllerConfig{AssignIPs: AllServices},
		},
	}
	if etcdDatastore {
		s.Controllers.Policy = &PolicyControllerConfig{ReconcilerPeriod: five.DeepCopy()}
		s.Controllers.WorkloadEndpoint = &WorkloadEndpointControllerConfig{ReconcilerPeriod: five.DeepCopy()}
		s.Controllers.ServiceAccount = &ServiceAccountControllerConfig{ReconcilerPeriod: five.DeepCopy()}
		s.Controllers.Namespace = &NamespaceControllerConfig{ReconcilerPeriod: five.DeepCopy()}
	}
	return s
}

// Validate checks the singleton name, log level, enable/disable switches,
// ports, durations and host endpoint templates.
func (c *KubeControllersConfiguration) Validate() error {
	v := newValidator(KindKubeControllersConfiguration, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	if c.Name != "" && c.Name != KubeControllersConfigurationName {
		v.addf("metadata.name", "%q is not allowed; kube-controllers configuration is a singleton named %q", c.Name, KubeControllersConfigurationName)
	}
	s := &c.Spec
	v.logLevel("spec.logSeverityScreen", s.LogSeverityScreen)
	v.oneOf("spec.healthChecks", s.HealthChecks, "Enabled", "Disabled")
	v.duration("spec.etcdV3CompactionPeriod", s.EtcdV3CompactionPeriod)
	v.intRange("spec.prometheusMetricsPort", s.PrometheusMetricsPort, 0, 65535)
	if s.DebugProfilePort != nil {
		p := int(*s.DebugProfilePort)
		v.intRange("spec.debugProfilePort", &p, 0, 65535)
	}
	cs := &s.Controllers
	if n := cs.Node; n != nil {
		v.duration("spec.controllers.node.reconcilerPeriod", n.ReconcilerPeriod)
		v.duration("spec.controllers.node.leakGracePeriod", n.LeakGracePeriod)
		v.oneOf("spec.controllers.node.syncLabels", n.SyncLabels, "Enabled", "Disabled")
		if h := n.HostEndpoint; h != nil {
			v.oneOf("spec.controllers.node.hostEndpoint.autoCreate", h.AutoCreate, "Enabled", "Disabled")
			v.oneOf("spec.controllers.node.hostEndpoint.createDefaultHostEndpoint", string(h.CreateDefaultHostEndpoint), "Enabled", "Disabled")
			for i, t := range h.Templates {
				f := indexed("spec.controllers.node.hostEndpoint.templates", i)
				if t.GenerateName != "" && !dns1123Subdomain.MatchString(t.GenerateName) {
					v.addf(f+".generateName", "%q is not a valid name prefix; use lower-case letters, digits, '-' and '.'", t.GenerateName)
				}
				for j, cidr := range t.InterfaceCIDRs {
					v.cidrOrIP(indexed(f+".interfaceCIDRs", j), cidr, anyFamily)
				}
				v.regex(f+".interfaceSelector", t.InterfaceSelector)
				v.selectorExpr(f+".nodeSelector", t.NodeSelector)
			}
		}
	}
	if p := cs.Policy; p != nil {
		v.duration("spec.controllers.policy.reconcilerPeriod", p.ReconcilerPeriod)
	}
	if p := cs.WorkloadEndpoint; p != nil {
		v.duration("spec.controllers.workloadEndpoint.reconcilerPeriod", p.ReconcilerPeriod)
	}
	if p := cs.ServiceAccount; p != nil {
		v.duration("spec.controllers.serviceAccount.reconcilerPeriod", p.ReconcilerPeriod)
	}
	if p := cs.Namespace; p != nil {
		v.duration("spec.controllers.namespace.reconcilerPeriod", p.ReconcilerPeriod)
	}
	if lb := cs.LoadBalancer; lb != nil {
		v.oneOf("spec.controllers.loadBalancer.assignIPs", string(lb.AssignIPs), string(AllServices), string(RequestedServicesOnly))
	}
	return v.result()
}
