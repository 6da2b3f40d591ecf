package node

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

func load(t *testing.T, env ...string) (*Config, error) {
	t.Helper()
	return LoadConfig(env, func() (string, error) { return "Host-A", nil })
}

func TestLoadConfig_DefaultsAreCalicos(t *testing.T) {
	c, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"node name from host name, lower-cased", c.NodeName == "host-a"},
		{"IP unset", c.IPv4.Mode == AddrUnset && c.IPv4.Method.Kind == autodetect.FirstFound},
		{"IP6 unset", c.IPv6.Mode == AddrUnset},
		{"pool4 enabled, CIDR chosen at startup", c.Pool4.Enabled && !c.Pool4.CIDR.IsValid()},
		{"pool4 block 26, NAT on, no encap", c.Pool4.BlockSize == 26 && c.Pool4.NATOutgoing && c.Pool4.IPIPMode == v3.IPIPModeNever && c.Pool4.VXLANMode == v3.VXLANModeNever},
		{"pool6 block 122, NAT off", c.Pool6.BlockSize == 122 && !c.Pool6.NATOutgoing},
		{"backend bird", c.Backend == BackendBird},
		{"no AS", c.AS == nil},
		{"manage CNI", c.ManageCNI},
		{"health localhost:9099", c.HealthAddr() == "localhost:9099"},
		{"files in /var/lib/calico", c.NodenameFile() == "/var/lib/calico/nodename" && c.MTUFile() == "/var/lib/calico/mtu"},
		{"embedded datastore", c.Datastore.DatastoreType == client.DatastoreEmbedded},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: config %+v", ch.name, c)
		}
	}
}

func TestLoadConfig_ReadsEveryVariable(t *testing.T) {
	c, err := load(t,
		"NODENAME=Node-7", "HOSTNAME=ignored", "IP=198.18.0.7/24", "IP6=autodetect",
		"IP_AUTODETECTION_METHOD=can-reach=198.18.0.1", "IP6_AUTODETECTION_METHOD=interface=eth0,ens.*",
		"CALICO_IPV4POOL_CIDR=10.244.0.0/16", "CALICO_IPV4POOL_IPIP=cross-subnet", "CALICO_IPV4POOL_BLOCK_SIZE=28",
		"CALICO_IPV4POOL_NAT_OUTGOING=false", "CALICO_IPV4POOL_NODE_SELECTOR=zone == 'a'", "CALICO_IPV4POOL_DISABLE_BGP_EXPORT=true",
		"CALICO_IPV6POOL_CIDR=fd00:10:244::/64", "CALICO_IPV6POOL_VXLAN=Always", "CALICO_IPV6POOL_BLOCK_SIZE=120",
		"CALICO_IPV6POOL_NAT_OUTGOING=yes", "CALICO_NETWORKING_BACKEND=vxlan", "CLUSTER_TYPE=k8s,bgp",
		"DATASTORE_TYPE=etcdv3", "ETCD_ENDPOINTS=http://127.0.0.1:2379", "ETCD_CA_CERT_FILE=/ca.pem",
		"AS=64512", "CALICO_ROUTER_ID=hash", "CALICO_MANAGE_CNI=false", "CALICO_K8S_NODE_REF=k8s-node-7",
		"DISABLE_NODE_IP_CHECK=true", "FELIX_HEALTHPORT=9199", "FELIX_HEALTHHOST=127.0.0.1",
		"TRICOLOR_VAR_LIB_DIR=/tmp/x", "CALICO_STARTUP_LOGLEVEL=debug")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"NODENAME wins over HOSTNAME", c.NodeName == "node-7"},
		{"IP explicit with prefix", c.IPv4.Mode == AddrExplicit && c.IPv4.Addr == netip.MustParsePrefix("198.18.0.7/24") && c.IPv4.HasPrefix},
		{"IP method", c.IPv4.Method.Kind == autodetect.CanReach && c.IPv4.Method.Destination == "198.18.0.1"},
		{"IP6 autodetect by interface", c.IPv6.Mode == AddrAutodetect && c.IPv6.Method.Kind == autodetect.InterfaceMatch && len(c.IPv6.Method.Patterns) == 2},
		{"pool4", c.Pool4.CIDR == netip.MustParsePrefix("10.244.0.0/16") && c.Pool4.IPIPMode == v3.IPIPModeCrossSubnet && c.Pool4.BlockSize == 28 &&
			!c.Pool4.NATOutgoing && c.Pool4.NodeSelector == "zone == 'a'" && c.Pool4.DisableBGPExport},
		{"pool6", c.Pool6.CIDR == netip.MustParsePrefix("fd00:10:244::/64") && c.Pool6.VXLANMode == v3.VXLANModeAlways && c.Pool6.BlockSize == 120 && c.Pool6.NATOutgoing},
		{"backend", c.Backend == BackendVXLAN},
		{"cluster type", c.ClusterType == "k8s,bgp"},
		{"datastore", c.Datastore.DatastoreType == client.DatastoreEtcdV3 && c.Datastore.EtcdCACertFile == "/ca.pem"},
		{"AS", c.AS != nil && c.AS.String() == "64512"},
		{"router ID", c.RouterID == "hash"},
		{"manage CNI off", !c.ManageCNI},
		{"k8s node ref", c.K8sNodeRef == "k8s-node-7"},
		{"IP check off", c.DisableNodeIPCheck},
		{"health address", c.HealthAddr() == "127.0.0.1:9199"},
		{"var lib dir", c.MTUFile() == "/tmp/x/mtu"},
		{"log level", c.StartupLogLevel == "debug"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: config %+v", ch.name, c)
		}
	}
	if c, _ := load(t, "HOSTNAME=From-Env"); c.NodeName != "from-env" {
		t.Errorf("HOSTNAME fallback: %q", c.NodeName)
	}
	if c, _ := load(t, "IP=198.18.0.7", "IP6=none", "CALICO_IPV4POOL_CIDR=none"); c.IPv4.HasPrefix || c.IPv4.Addr.Bits() != 32 || c.IPv6.Mode != AddrNone || c.Pool4.Enabled {
		t.Errorf("bare IP / none: %+v", c)
	}
}

func TestLoadConfig_BadValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"IP=300.1.1.1":                       "IP: \"300.1.1.1\" is not an IPv4 address",
		"IP=2001:db8::1":                     "IP: \"2001:db8::1\" is not an IPv4 address",
		"IP6=198.18.0.1":                     "IP6: \"198.18.0.1\" is not an IPv6 address",
		"IP_AUTODETECTION_METHOD=closest":    "IP_AUTODETECTION_METHOD: \"closest\" is not an autodetection method",
		"IP6_AUTODETECTION_METHOD=cidr=x":    "IP6_AUTODETECTION_METHOD:",
		"CALICO_IPV4POOL_CIDR=10.0.0.0":      "CALICO_IPV4POOL_CIDR: \"10.0.0.0\" is not an IPv4 CIDR",
		"CALICO_IPV6POOL_CIDR=10.0.0.0/8":    "CALICO_IPV6POOL_CIDR:",
		"CALICO_IPV4POOL_IPIP=sometimes":     "CALICO_IPV4POOL_IPIP: \"sometimes\" is not an encapsulation mode",
		"CALICO_IPV4POOL_VXLAN=on":           "CALICO_IPV4POOL_VXLAN:",
		"CALICO_IPV6POOL_VXLAN=x":            "CALICO_IPV6POOL_VXLAN:",
		"CALICO_IPV4POOL_BLOCK_SIZE=33":      "CALICO_IPV4POOL_BLOCK_SIZE: \"33\" is not a valid IPv4 block size; use 20-32",
		"CALICO_IPV6POOL_BLOCK_SIZE=64":      "CALICO_IPV6POOL_BLOCK_SIZE: \"64\" is not a valid IPv6 block size; use 116-128",
		"CALICO_IPV4POOL_NAT_OUTGOING=maybe": "CALICO_IPV4POOL_NAT_OUTGOING: \"maybe\" is not a boolean",
		"CALICO_IPV4POOL_NODE_SELECTOR=a ==": "CALICO_IPV4POOL_NODE_SELECTOR:",
		"NO_DEFAULT_POOLS=sure":              "NO_DEFAULT_POOLS: \"sure\" is not a boolean",
		"CALICO_NETWORKING_BACKEND=gobgp":    "CALICO_NETWORKING_BACKEND: \"gobgp\" is not a backend",
		"AS=-1":                              "AS: \"-1\" is not an AS number",
		"CALICO_ROUTER_ID=abc":               "CALICO_ROUTER_ID:",
		"CALICO_MANAGE_CNI=2":                "CALICO_MANAGE_CNI:",
		"DISABLE_NODE_IP_CHECK=x":            "DISABLE_NODE_IP_CHECK:",
		"FELIX_HEALTHPORT=http":              "FELIX_HEALTHPORT: \"http\" is not an integer",
		"FELIX_VXLANENABLED=perhaps":         "FELIX_VXLANENABLED: \"perhaps\" is not a boolean",
		"FELIX_ROUTEREFRESHINTERVAL=soon":    "FELIX_ROUTEREFRESHINTERVAL: \"soon\" is not a duration",
		"DATASTORE_TYPE=consul":              "datastore type \"consul\"",
	}
	for kv, want := range cases {
		_, err := load(t, "NODENAME=n", kv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to contain %q", kv, err, want)
		}
	}
	_, err := load(t, "NODENAME=n", "NO_DEFAULT_POOLS=true", "CALICO_IPV4POOL_CIDR=10.0.0.0/16")
	if err == nil || !strings.Contains(err.Error(), "NO_DEFAULT_POOLS: is true but CALICO_IPV4POOL_CIDR") {
		t.Errorf("NO_DEFAULT_POOLS with a CIDR: %v", err)
	}
	_, err = load(t, "NODENAME=n", "CALICO_IPV4POOL_IPIP=Always", "CALICO_IPV4POOL_VXLAN=Always")
	if err == nil || !strings.Contains(err.Error(), "a pool uses one encapsulation") {
		t.Errorf("IPIP and VXLAN: %v", err)
	}
	_, err = LoadConfig(nil, func() (string, error) { return "", errors.New("uts broken") })
	if err == nil || !strings.Contains(err.Error(), "NODENAME: is unset and the host name cannot be read") {
		t.Errorf("no host name: %v", err)
	}
	// Every error at once, one per line.
	_, err = load(t, "NODENAME=n", "AS=x", "IP=y")
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want two error lines: %v", err)
	}
}

func TestEffectiveFelixConfig_EnvBeatsNodeBeatsDefault(t *testing.T) {
	o, err := LoadFelixOverrides([]string{"FELIX_IPINIPENABLED=true", "FELIX_LOGSEVERITYSCREEN=Debug", "FELIX_ROUTEREFRESHINTERVAL=30",
		"FELIX_HEALTHPORT=9199", "FELIX_DATASTORETYPE=etcdv3", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	global := v3.NewFelixConfiguration()
	global.Spec.LogSeverityScreen = "Info"
	global.Spec.InterfacePrefix = "cali"
	f := false
	global.Spec.IPIPEnabled = &f
	node := v3.NewFelixConfiguration()
	node.Spec.InterfacePrefix = "tap"
	node.Spec.LogSeverityScreen = "Warning"
	spec, err := EffectiveFelixConfig(global, node, o)
	if err != nil {
		t.Fatal(err)
	}
	if spec.LogSeverityScreen != "Debug" || spec.InterfacePrefix != "tap" || spec.IPIPEnabled == nil || !*spec.IPIPEnabled ||
		spec.RouteRefreshInterval == nil || spec.RouteRefreshInterval.Duration != 30*time.Second || spec.HealthPort == nil || *spec.HealthPort != 9199 {
		t.Fatalf("effective spec %+v", spec)
	}
	if o.Get("DatastoreType") != "etcdv3" || o.Get("ipipEnabled") != "true" {
		t.Fatalf("env-only / aliased parameters: %q %q", o.Get("DatastoreType"), o.Get("ipipEnabled"))
	}
	if got := strings.Join(o.Vars(), " "); got != "FELIX_DATASTORETYPE FELIX_HEALTHPORT FELIX_IPINIPENABLED FELIX_LOGSEVERITYSCREEN FELIX_ROUTEREFRESHINTERVAL" {
		t.Fatalf("vars %s", got)
	}
}
