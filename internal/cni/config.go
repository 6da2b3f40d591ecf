package cni

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// IPAMTypeCalico is the IPAM plugin Calico ships; the calico plugin runs it
// in-process instead of executing a second binary.
const IPAMTypeCalico = "calico-ipam"

// NetConf is Calico's network configuration for the calico plugin (and, via
// its ipam section, for calico-ipam), with Calico's field names. Runtime-owned
// fields (cniVersion, name, args, runtimeConfig, prevResult, ...) are parsed
// too so that unknown fields can be refused.
type NetConf struct {
	CNIVersion   string          `json:"cniVersion,omitempty"`
	Name         string          `json:"name"`
	Type         string          `json:"type"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
	// IPAM is the ipam section; strictly parsed only for calico-ipam.
	IPAM IPAMConf `json:"-"`
	// RawIPAM is the ipam section as given, for a delegated IPAM plugin.
	RawIPAM json.RawMessage `json:"ipam,omitempty"`
	DNS     json.RawMessage `json:"dns,omitempty"`

	DatastoreType    string `json:"datastore_type,omitempty"`
	EtcdEndpoints    string `json:"etcd_endpoints,omitempty"`
	EtcdDiscoverySrv string `json:"etcd_discovery_srv,omitempty"`
	EtcdScheme       string `json:"etcd_scheme,omitempty"`
	EtcdKeyFile      string `json:"etcd_key_file,omitempty"`
	EtcdCertFile     string `json:"etcd_cert_file,omitempty"`
	EtcdCACertFile   string `json:"etcd_ca_cert_file,omitempty"`
	// EtcdAuthority and Hostname are Calico's deprecated spellings.
	EtcdAuthority string `json:"etcd_authority,omitempty"`
	Hostname      string `json:"hostname,omitempty"`

	Nodename             string `json:"nodename,omitempty"`
	NodenameFile         string `json:"nodename_file,omitempty"`
	NodenameFileOptional bool   `json:"nodename_file_optional,omitempty"`

	MTU       int `json:"mtu,omitempty"`
	NumQueues int `json:"num_queues,omitempty"`

	LogLevel        string `json:"log_level,omitempty"`
	LogFilePath     string `json:"log_file_path,omitempty"`
	LogFileMaxSize  int    `json:"log_file_max_size,omitempty"`
	LogFileMaxAge   int    `json:"log_file_max_age,omitempty"`
	LogFileMaxCount int    `json:"log_file_max_count,omitempty"`

	Kubernetes        Kubernetes        `json:"kubernetes,omitempty"`
	Policy            Policy            `json:"policy,omitempty"`
	FeatureControl    FeatureControl    `json:"feature_control,omitempty"`
	ContainerSettings ContainerSettings `json:"container_settings,omitempty"`

	IncludeDefaultRoutes bool            `json:"include_default_routes,omitempty"`
	DataplaneOptions     json.RawMessage `json:"dataplane_options,omitempty"`
	ReadinessGates       []string        `json:"readiness_gates,omitempty"`
	WindowsUseSingleNet  bool            `json:"windows_use_single_network,omitempty"`

	Args          Args            `json:"args,omitempty"`
	RuntimeConfig RuntimeConfig   `json:"runtimeConfig,omitempty"`
	PrevResult    json.RawMessage `json:"prevResult,omitempty"`
	// ValidAttachments is set for GC (spec 1.1); Attachments is the
	// spelling an early 1.1 draft used, which libcni also sends.
	ValidAttachments []Attachment `json:"cni.dev/valid-attachments,omitempty"`
	Attachments      []Attachment `json:"cni.dev/attachments,omitempty"`
}

// IPAMConf is calico-ipam's section of the network configuration.
type IPAMConf struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// AssignIPv4 and AssignIPv6 are the strings "true"/"false" in Calico
	// (booleans are accepted too); IPv4 defaults to true, IPv6 to false.
	AssignIPv4 *boolString `json:"assign_ipv4,omitempty"`
	AssignIPv6 *boolString `json:"assign_ipv6,omitempty"`
	IPv4Pools  []string    `json:"ipv4_pools,omitempty"`
	IPv6Pools  []string    `json:"ipv6_pools,omitempty"`
	// Subnet "usePodCidr" is host-local's Calico extension; refused here.
	Subnet string `json:"subnet,omitempty"`
}

// Kubernetes is the kubernetes section (API access for pod labels).
type Kubernetes struct {
	K8sAPIRoot string `json:"k8s_api_root,omitempty"`
	Kubeconfig string `json:"kubeconfig,omitempty"`
	NodeName   string `json:"node_name,omitempty"`
}

// Policy is the policy section.
type Policy struct {
	PolicyType              string `json:"type,omitempty"`
	K8sAPIRoot              string `json:"k8s_api_root,omitempty"`
	K8sAuthToken            string `json:"k8s_auth_token,omitempty"`
	K8sClientCertificate    string `json:"k8s_client_certificate,omitempty"`
	K8sClientKey            string `json:"k8s_client_key,omitempty"`
	K8sCertificateAuthority string `json:"k8s_certificate_authority,omitempty"`
}

// FeatureControl is the feature_control section.
type FeatureControl struct {
	IPAddrsNoIpam bool `json:"ip_addrs_no_ipam,omitempty"`
	FloatingIPs   bool `json:"floating_ips,omitempty"`
}

// ContainerSettings is the container_settings section.
type ContainerSettings struct {
	AllowIPForwarding bool `json:"allow_ip_forwarding,omitempty"`
}

// Args is the CNI "args" convention; Tricolor reads args.cni.
type Args struct {
	CNI CNIArgs `json:"cni,omitempty"`
}

// CNIArgs is args.cni: labels ([{key, value}], the CNI labels convention),
// ips (the CNI ips convention, like Calico's ipAddrs annotation) and pod
// annotations (Tricolor's way to pass cni.projectcalico.org/* annotations
// without a Kubernetes API).
type CNIArgs struct {
	Labels      []Label           `json:"labels,omitempty"`
	IPs         []string          `json:"ips,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Label is one {key, value} of args.cni.labels.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// RuntimeConfig holds the capability arguments libcni injects.
type RuntimeConfig struct {
	PortMappings []PortMapping `json:"portMappings,omitempty"`
	IPs          []string      `json:"ips,omitempty"`
	// PodAnnotations is containerd's io.kubernetes.cri.pod-annotations.
	PodAnnotations map[string]string `json:"io.kubernetes.cri.pod-annotations,omitempty"`
	Bandwidth      json.RawMessage   `json:"bandwidth,omitempty"`
	DNS            json.RawMessage   `json:"dns,omitempty"`
}

// PortMapping is one hostPort mapping (the portMappings capability).
type PortMapping struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// Attachment is one still-valid attachment listed by a GC call.
type Attachment struct {
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
}

// boolString accepts Calico's "true"/"false" strings and JSON booleans.
type boolString bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *boolString) UnmarshalJSON(data []byte) error {
	s := strings.Trim(strings.TrimSpace(string(data)), `"`)
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false":
		*b = false
	default:
		return fmt.Errorf("%s is not a boolean; write \"true\" or \"false\"", data)
	}
	return nil
}

// WantIPv4 reports whether an IPv4 address is to be assigned (default yes).
func (c IPAMConf) WantIPv4() bool { return c.AssignIPv4 == nil || bool(*c.AssignIPv4) }

// WantIPv6 reports whether an IPv6 address is to be assigned (default no).
func (c IPAMConf) WantIPv6() bool { return c.AssignIPv6 != nil && bool(*c.AssignIPv6) }

// ParseNetConf decodes a network configuration strictly: unknown fields and
// values of the wrong type are errors naming the field and the fix. It
// also checks values that cannot work (negative MTU, IPAM that assigns
// nothing, settings Tricolor does not implement).
func ParseNetConf(data []byte) (*NetConf, error) {
	c := &NetConf{}
	if err := strictDecode(data, c, "network config"); err != nil {
		return nil, err
	}
	if len(c.RawIPAM) > 0 && !bytes.Equal(bytes.TrimSpace(c.RawIPAM), []byte("null")) {
		var probe struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(c.RawIPAM, &probe); err != nil {
			return nil, fmt.Errorf("network config %q: field \"ipam\" must be an object with a \"type\": %v", c.Name, err)
		}
		c.IPAM.Type = probe.Type
		if probe.Type == IPAMTypeCalico {
			if err := strictDecode(c.RawIPAM, &c.IPAM, "ipam section"); err != nil {
				return nil, fmt.Errorf("network config %q: %w", c.Name, err)
			}
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// validate checks values the decoder cannot.
func (c *NetConf) validate() error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if c.Name == "" {
		add("field \"name\" is required; name the network, e.g. \"k8s-pod-network\"")
	}
	if c.MTU < 0 || c.MTU > 65535 {
		add("field \"mtu\" is %d; use 68-65535, or 0 to read /var/lib/calico/mtu", c.MTU)
	} else if c.MTU > 0 && c.MTU < 68 {
		add("field \"mtu\" is %d, below IPv4's minimum of 68; use 68-65535", c.MTU)
	}
	if c.NumQueues < 0 {
		add("field \"num_queues\" is %d; use a positive number or leave it out", c.NumQueues)
	}
	switch strings.ToLower(c.DatastoreType) {
	case "", "etcdv3", "embedded":
	case "kubernetes":
		if c.Kubernetes.Kubeconfig == "" {
			add("field \"datastore_type\" is kubernetes but kubernetes.kubeconfig is empty; set it to the kubeconfig calico-node install-cni writes (e.g. /etc/cni/net.d/calico-kubeconfig)")
		}
	default:
		add("field \"datastore_type\" is %q; use etcdv3 or kubernetes", c.DatastoreType)
	}
	if c.EtcdDiscoverySrv != "" {
		add("field \"etcd_discovery_srv\" is not supported; list the members in etcd_endpoints")
	}
	if c.IPAM.Type == IPAMTypeCalico {
		if !c.IPAM.WantIPv4() && !c.IPAM.WantIPv6() {
			add("ipam: assign_ipv4 and assign_ipv6 are both false, so no address would be assigned; set one of them to \"true\"")
		}
		if c.IPAM.Subnet != "" && c.IPAM.Subnet != "usePodCidr" {
			add("ipam.subnet %q is not understood by calico-ipam; remove it", c.IPAM.Subnet)
		} else if c.IPAM.Subnet != "" {
			add("ipam.subnet \"usePodCidr\" belongs to host-local; use \"type\": \"host-local\" for it or remove it")
		}
	} else if c.Type == "calico" && c.IPAM.Type == "" {
		add("field \"ipam\" is required; use {\"type\": \"calico-ipam\"}")
	}
	if c.FeatureControl.IPAddrsNoIpam {
		add("feature_control.ip_addrs_no_ipam is not supported yet; remove it")
	}
	if c.FeatureControl.FloatingIPs {
		add("feature_control.floating_ips is not supported yet; remove it")
	}
	if lvl := strings.ToLower(c.LogLevel); lvl != "" {
		if _, ok := logLevels[lvl]; !ok {
			add("field \"log_level\" is %q; use debug, info, warning, error or none", c.LogLevel)
		}
	}
	for i, l := range c.Args.CNI.Labels {
		if l.Key == "" {
			add("args.cni.labels[%d]: key is empty; give each label a key", i)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("network config %q: %s", c.Name, strings.Join(errs, "; "))
}

// strictDecode decodes data into v refusing unknown fields, and rewrites the
// decoder's errors to name the field and what it should hold.
func strictDecode(data []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fmt.Errorf("%s: trailing data after the JSON object; pass exactly one object", what)
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s: field %q holds a JSON %s; it must be %s", what, typeErr.Field, typeErr.Value, goTypeWord(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%s: not valid JSON at byte %d: %v", what, syntaxErr.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s: not valid JSON: the input ends early (%v)", what, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Errorf("%s: unknown field %s; remove it or check its spelling (known fields: %s)", what, field, strings.Join(knownFields(v), ", "))
	}
	return fmt.Errorf("%s: %v", what, err)
}

// goTypeWord turns a reflect kind into words for an error message.
func goTypeWord(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint", "uint64", "uint32", "uint16":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

// knownFields lists the JSON names a config struct accepts.
func knownFields(v any) []string {
	var names []string
	switch v.(type) {
	case *NetConf:
		names = netConfFields
	case *IPAMConf:
		names = []string{"type", "name", "assign_ipv4", "assign_ipv6", "ipv4_pools", "ipv6_pools", "subnet"}
	}
	sort.Strings(names)
	return names
}

// netConfFields are the top-level fields NetConf accepts (kept beside the
// struct; TestKnownFields_MatchStruct checks they agree).
var netConfFields = []string{
	"cniVersion", "name", "type", "capabilities", "ipam", "dns",
	"datastore_type", "etcd_endpoints", "etcd_discovery_srv", "etcd_scheme", "etcd_key_file", "etcd_cert_file",
	"etcd_ca_cert_file", "etcd_authority", "hostname", "nodename", "nodename_file", "nodename_file_optional",
	"mtu", "num_queues", "log_level", "log_file_path", "log_file_max_size", "log_file_max_age", "log_file_max_count",
	"kubernetes", "policy", "feature_control", "container_settings", "include_default_routes", "dataplane_options",
	"readiness_gates", "windows_use_single_network", "args", "runtimeConfig", "prevResult",
	"cni.dev/valid-attachments", "cni.dev/attachments",
}

// UnmarshalJSON reads args.cni and ignores other conventions' keys: the
// "args" object is shared by every plugin in a chain.
func (a *Args) UnmarshalJSON(data []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("args must be an object: %w", err)
	}
	if raw, ok := all["cni"]; ok {
		if err := json.Unmarshal(raw, &a.CNI); err != nil {
			return fmt.Errorf("args.cni: %w (labels are [{\"key\": ..., \"value\": ...}], ips a list of addresses)", err)
		}
	}
	return nil
}

// UnmarshalJSON reads the capabilities Tricolor uses and ignores the rest:
// runtimeConfig only carries what the config's "capabilities" declared, for
// every plugin of a chain.
func (r *RuntimeConfig) UnmarshalJSON(data []byte) error {
	type plain RuntimeConfig
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("runtimeConfig: %w", err)
	}
	*r = RuntimeConfig(p)
	return nil
}
