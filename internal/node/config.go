package node

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// Defaults, in one place (Calico's values unless noted).
const (
	DefaultIPv4PoolCIDR      = "192.168.0.0/16"
	DefaultIPv4BlockSize     = 26
	DefaultIPv6BlockSize     = 122
	DefaultIPv4PoolName      = "default-ipv4-ippool"
	DefaultIPv6PoolName      = "default-ipv6-ippool"
	DefaultNetworkingBackend = BackendBird
	// DefaultVarLibDir holds the nodename and mtu files CNI reads.
	DefaultVarLibDir = "/var/lib/calico"
	// EnvVarLibDir moves DefaultVarLibDir (Tricolor's; for tests and labs
	// running several nodes on one host).
	EnvVarLibDir = "TRICOLOR_VAR_LIB_DIR"
	// DefaultHealthHost and DefaultHealthPort are Felix's health endpoint
	// (FELIX_HEALTHHOST, FELIX_HEALTHPORT).
	DefaultHealthHost = "localhost"
	DefaultHealthPort = 9099
)

// Networking backends (CALICO_NETWORKING_BACKEND).
const (
	BackendBird  = "bird"
	BackendVXLAN = "vxlan"
	BackendNone  = "none"
)

// AddrMode says how a node address (IP / IP6) is chosen.
type AddrMode string

// Address modes.
const (
	// AddrUnset: IP unset: autodetect unless the Node already has an address
	// (Calico's rule for IPv4); IP6 unset: no IPv6 address.
	AddrUnset AddrMode = ""
	// AddrAutodetect: "autodetect".
	AddrAutodetect AddrMode = "autodetect"
	// AddrExplicit: an address or address/prefix.
	AddrExplicit AddrMode = "explicit"
	// AddrNone: "none": no address of this family; keep a stored one.
	AddrNone AddrMode = "none"
)

// AddrSetting is one family's IP / IP6 setting.
type AddrSetting struct {
	Mode AddrMode
	// Addr is the explicit address; HasPrefix is false when it was given
	// without a length (the interface's length is looked up, else /32 or /128).
	Addr      netip.Prefix
	HasPrefix bool
	// Method is IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD.
	Method autodetect.Method
}

// PoolConfig is the default pool of one family, from CALICO_IPV4POOL_* or
// CALICO_IPV6POOL_*.
type PoolConfig struct {
	// Enabled is false when the CIDR variable is "none".
	Enabled bool
	// CIDR is the pool CIDR; invalid when unset (IPv4: 192.168.0.0/16 or a
	// 172.16-31.0.0/16 fallback not used by the host; IPv6: a random ULA /48).
	CIDR             netip.Prefix
	IPIPMode         v3.IPIPMode
	VXLANMode        v3.VXLANMode
	BlockSize        int
	NATOutgoing      bool
	NodeSelector     string
	DisableBGPExport bool
}

// Config is calico-node's configuration from its environment.
type Config struct {
	// NodeName is NODENAME, else HOSTNAME, else the host name (lower-cased
	// and trimmed, as Calico does).
	NodeName string
	// IPv4 and IPv6 are the IP / IP6 settings.
	IPv4, IPv6 AddrSetting
	// Pool4 and Pool6 describe the default pools.
	Pool4, Pool6 PoolConfig
	// NoDefaultPools is NO_DEFAULT_POOLS.
	NoDefaultPools bool
	// Backend is CALICO_NETWORKING_BACKEND: bird (BGP), vxlan or none
	// (policy only: no node addresses written).
	Backend string
	// ClusterType is CLUSTER_TYPE, written to ClusterInformation.
	ClusterType string
	// AS is the node's AS number (AS); nil keeps the stored one.
	AS *numorstring.ASNumber
	// RouterID is CALICO_ROUTER_ID: an IPv4 address or "hash" (derive it
	// from the node name); consumed by BGP.
	RouterID string
	// ManageCNI is CALICO_MANAGE_CNI (default true): calico-node keeps the
	// CNI configuration's credentials fresh (Kubernetes only; recorded).
	ManageCNI bool
	// K8sNodeRef is CALICO_K8S_NODE_REF, the Kubernetes node name written to
	// spec.orchRefs.
	K8sNodeRef string
	// DisableNodeIPCheck is DISABLE_NODE_IP_CHECK: skip refusing an address
	// another Node already uses.
	DisableNodeIPCheck bool
	// DisableFelix is CALICO_DISABLE_FELIX: calico-node runs startup (and
	// BGP) but does not host Felix.
	DisableFelix bool
	// Datastore is the datastore connection (DATASTORE_TYPE, ETCD_ENDPOINTS,
	// ETCD_*_FILE, ...), resolved by internal/client.
	Datastore *client.Config
	// Felix holds the FELIX_* overrides.
	Felix FelixOverrides
	// HealthHost and HealthPort are where the health endpoint listens and
	// where the probes look (FELIX_HEALTHHOST, FELIX_HEALTHPORT).
	HealthHost string
	HealthPort int
	// VarLibDir holds the nodename and mtu files.
	VarLibDir string
	// StartupLogLevel is CALICO_STARTUP_LOGLEVEL (debug, info, warning, error).
	StartupLogLevel string
}

// NodenameFile is where CNI reads the node name.
func (c *Config) NodenameFile() string { return filepath.Join(c.VarLibDir, "nodename") }

// MTUFile is where CNI reads the pod MTU.
func (c *Config) MTUFile() string { return filepath.Join(c.VarLibDir, "mtu") }

// env is a lookup in the environment under construction, remembering
// every error with the variable's name.
type env struct {
	get  func(string) string
	errs []string
}

func (e *env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, name+": "+fmt.Sprintf(format, args...))
}

// boolean parses Calico's boolean spellings; anything else is an error
// (Calico silently reads unknown words as true).
func (e *env) boolean(name string, def bool) bool {
	v := strings.TrimSpace(e.get(name))
	switch strings.ToLower(v) {
	case "":
		return def
	case "true", "1", "yes", "y", "t":
		return true
	case "false", "0", "no", "n", "f":
		return false
	}
	e.fail(name, "%q is not a boolean; use true or false", v)
	return def
}

// LoadConfig reads calico-node's configuration from environ (KEY=VALUE
// strings: os.Environ() in production). hostname is os.Hostname when nil.
// Every invalid variable is reported in one error, each line naming the
// variable and the fix.
func LoadConfig(environ []string, hostname func() (string, error)) (*Config, error) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	if hostname == nil {
		hostname = os.Hostname
	}
	e := &env{get: getenv}
	c := &Config{
		Backend:         strings.ToLower(strings.TrimSpace(getenv("CALICO_NETWORKING_BACKEND"))),
		ClusterType:     getenv("CLUSTER_TYPE"),
		K8sNodeRef:      getenv("CALICO_K8S_NODE_REF"),
		StartupLogLevel: getenv("CALICO_STARTUP_LOGLEVEL"),
		VarLibDir:       getenv(EnvVarLibDir),
	}
	c.NodeName = nodeName(e, hostname)
	if c.VarLibDir == "" {
		c.VarLibDir = DefaultVarLibDir
	}
	switch c.Backend {
	case "":
		c.Backend = DefaultNetworkingBackend
	case BackendBird, BackendVXLAN, BackendNone:
	default:
		e.fail("CALICO_NETWORKING_BACKEND", "%q is not a backend; use bird (BGP), vxlan or none (policy only)", c.Backend)
	}
	c.IPv4 = addrSetting(e, "IP", "IP_AUTODETECTION_METHOD", autodetect.V4)
	c.IPv6 = addrSetting(e, "IP6", "IP6_AUTODETECTION_METHOD", autodetect.V6)
	c.NoDefaultPools = e.boolean("NO_DEFAULT_POOLS", false)
	c.Pool4 = poolConfig(e, "CALICO_IPV4POOL_", autodetect.V4)
	c.Pool6 = poolConfig(e, "CALICO_IPV6POOL_", autodetect.V6)
	if c.NoDefaultPools && (getenv("CALICO_IPV4POOL_CIDR") != "" || getenv("CALICO_IPV6POOL_CIDR") != "") {
		e.fail("NO_DEFAULT_POOLS", "is true but CALICO_IPV4POOL_CIDR or CALICO_IPV6POOL_CIDR is set; unset one of them")
	}
	if as := strings.TrimSpace(getenv("AS")); as != "" {
		n, err := numorstring.ParseASNumber(as)
		if err != nil {
			e.fail("AS", "%q is not an AS number; use 1-4294967295 or dotted 1.10", as)
		} else {
			c.AS = &n
		}
	}
	if rid := strings.TrimSpace(getenv("CALICO_ROUTER_ID")); rid != "" {
		if a, err := netip.ParseAddr(rid); rid != "hash" && (err != nil || !a.Is4()) {
			e.fail("CALICO_ROUTER_ID", "%q is neither an IPv4 address nor \"hash\"", rid)
		}
		c.RouterID = rid
	}
	c.ManageCNI = e.boolean("CALICO_MANAGE_CNI", true)
	c.DisableNodeIPCheck = e.boolean("DISABLE_NODE_IP_CHECK", false)
	c.DisableFelix = e.boolean("CALICO_DISABLE_FELIX", false)
	var err error
	c.Felix, err = LoadFelixOverrides(environ)
	if err != nil {
		e.errs = append(e.errs, err.Error())
	}
	c.HealthHost, c.HealthPort = DefaultHealthHost, DefaultHealthPort
	if h := c.Felix.Get("HealthHost"); h != "" {
		c.HealthHost = h
	}
	if p := c.Felix.Get("HealthPort"); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			e.fail("FELIX_HEALTHPORT", "%q is not a port; use 1-65535 (default 9099)", p)
		} else {
			c.HealthPort = n
		}
	}
	if c.Datastore, err = client.LoadConfig("", getenv); err != nil {
		e.errs = append(e.errs, err.Error())
	}
	if len(e.errs) > 0 {
		return nil, fmt.Errorf("calico-node configuration is invalid:\n  %s", strings.Join(e.errs, "\n  "))
	}
	return c, nil
}

// nodeName applies Calico's order: NODENAME, HOSTNAME, then the host name.
func nodeName(e *env, hostname func() (string, error)) string {
	for _, v := range []string{"NODENAME", "HOSTNAME"} {
		if n := strings.TrimSpace(e.get(v)); n != "" {
			return strings.ToLower(n)
		}
	}
	h, err := hostname()
	if err != nil || strings.TrimSpace(h) == "" {
		e.fail("NODENAME", "is unset and the host name cannot be read (%v); set NODENAME", err)
		return ""
	}
	return strings.ToLower(strings.TrimSpace(h))
}

// addrSetting parses IP / IP6 and its autodetection method.
func addrSetting(e *env, name, methodName string, fam autodetect.Family) AddrSetting {
	var s AddrSetting
	m, err := autodetect.ParseMethod(e.get(methodName))
	if err != nil {
		e.fail(methodName, "%v", err)
	}
	s.Method = m
	v := strings.TrimSpace(e.get(name))
	switch strings.ToLower(v) {
	case "":
		s.Mode = AddrUnset
		return s
	case "autodetect":
		s.Mode = AddrAutodetect
		return s
	case "none":
		s.Mode = AddrNone
		return s
	}
	s.Mode = AddrExplicit
	var p netip.Prefix
	if strings.Contains(v, "/") {
		p, err = netip.ParsePrefix(v)
		s.HasPrefix = true
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(v); err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil || (fam == autodetect.V4) != p.Addr().Is4() {
		e.fail(name, "%q is not an IPv%d address; use autodetect, none, an address (e.g. %s) or address/prefix", v, fam, map[autodetect.Family]string{4: "198.18.0.2", 6: "2001:db8::2"}[fam])
		return s
	}
	s.Addr = p
	return s
}

// poolConfig parses one family's CALICO_IPVxPOOL_* variables.
func poolConfig(e *env, prefix string, fam autodetect.Family) PoolConfig {
	p := PoolConfig{Enabled: true, NodeSelector: strings.TrimSpace(e.get(prefix + "NODE_SELECTOR"))}
	cidr := strings.TrimSpace(e.get(prefix + "CIDR"))
	switch {
	case strings.EqualFold(cidr, "none"):
		p.Enabled = false
	case cidr != "":
		c, err := netip.ParsePrefix(cidr)
		if err != nil || (fam == autodetect.V4) != c.Addr().Is4() {
			e.fail(prefix+"CIDR", "%q is not an IPv%d CIDR; write e.g. %s, or none to create no IPv%d pool", cidr, fam, map[autodetect.Family]string{4: DefaultIPv4PoolCIDR, 6: "fd00:10:244::/64"}[fam], fam)
		} else {
			p.CIDR = c.Masked()
		}
	}
	p.BlockSize = DefaultIPv4BlockSize
	lo, hi := 20, 32
	if fam == autodetect.V6 {
		p.BlockSize, lo, hi = DefaultIPv6BlockSize, 116, 128
	}
	if bs := strings.TrimSpace(e.get(prefix + "BLOCK_SIZE")); bs != "" {
		n, err := strconv.Atoi(bs)
		if err != nil || n < lo || n > hi {
			e.fail(prefix+"BLOCK_SIZE", "%q is not a valid IPv%d block size; use %d-%d (default %d)", bs, fam, lo, hi, p.BlockSize)
		} else {
			p.BlockSize = n
		}
	}
	if p.CIDR.IsValid() && p.CIDR.Bits() > p.BlockSize {
		e.fail(prefix+"BLOCK_SIZE", "%d is larger than the pool %s itself; use a block size of at least /%d", p.BlockSize, p.CIDR, p.CIDR.Bits())
	}
	p.IPIPMode = v3.IPIPModeNever
	if fam == autodetect.V4 {
		p.IPIPMode = v3.IPIPMode(encapMode(e, prefix+"IPIP"))
	}
	p.VXLANMode = v3.VXLANMode(encapMode(e, prefix+"VXLAN"))
	if p.IPIPMode != v3.IPIPModeNever && p.VXLANMode != v3.VXLANModeNever {
		e.fail(prefix+"IPIP", "%s and %sVXLAN %s are both set; a pool uses one encapsulation, set the other to Never", p.IPIPMode, prefix, p.VXLANMode)
	}
	p.NATOutgoing = e.boolean(prefix+"NAT_OUTGOING", fam == autodetect.V4)
	p.DisableBGPExport = e.boolean(prefix+"DISABLE_BGP_EXPORT", false)
	if p.NodeSelector != "" {
		if _, err := selector.Parse(p.NodeSelector); err != nil {
			e.fail(prefix+"NODE_SELECTOR", "%q is not a valid selector: %v", p.NodeSelector, err)
		}
	}
	return p
}

// encapMode parses Calico's IPIP/VXLAN mode spellings.
func encapMode(e *env, name string) string {
	v := strings.TrimSpace(e.get(name))
	switch strings.ToLower(v) {
	case "", "off", "never":
		return "Never"
	case "always":
		return "Always"
	case "crosssubnet", "cross-subnet":
		return "CrossSubnet"
	}
	e.fail(name, "%q is not an encapsulation mode; use Always, CrossSubnet or Never", v)
	return "Never"
}
