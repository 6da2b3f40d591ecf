package cni

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParseNetConf_AcceptsCalicosConfigAndRefusesWhatItCannotUse(t *testing.T) {
	for _, tc := range []struct {
		name, conf, wantErr string
	}{
		{"calico's documented config", `{"name":"k8s-pod-network","cniVersion":"1.0.0","type":"calico","log_level":"info",
			"log_file_path":"/var/log/calico/cni/cni.log","datastore_type":"etcdv3","etcd_endpoints":"http://127.0.0.1:2379",
			"etcd_key_file":"","nodename":"n1","mtu":1440,"ipam":{"type":"calico-ipam","assign_ipv4":"true","assign_ipv6":"false",
			"ipv4_pools":["10.244.0.0/16","default-ipv4-ippool"]},"policy":{"type":"k8s"},"kubernetes":{"kubeconfig":"/etc/cni/net.d/calico-kubeconfig"},
			"container_settings":{"allow_ip_forwarding":true},"capabilities":{"portMappings":true},
			"args":{"cni":{"labels":[{"key":"app","value":"web"}]},"other-convention":{"x":1}},
			"runtimeConfig":{"portMappings":[{"hostPort":80,"containerPort":8080,"protocol":"tcp"}],"somethingNew":true}}`, ""},
		{"booleans for assign_ipv*", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam","assign_ipv4":false,"assign_ipv6":true}}`, ""},
		{"host-local ipam passes through", `{"name":"n","type":"calico","ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}]]}}`, ""},
		{"unknown top-level field", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam"},"etcd_endpoint":"x"}`, `unknown field "etcd_endpoint"; remove it or check its spelling`},
		{"unknown ipam field", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam","ipv4_pool":["a"]}}`, `ipam section: unknown field "ipv4_pool"`},
		{"mtu as a string", `{"name":"n","type":"calico","mtu":"1500","ipam":{"type":"calico-ipam"}}`, `field "mtu" holds a JSON string; it must be a number`},
		{"assign_ipv4 not boolean", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam","assign_ipv4":"yes"}}`, `"yes" is not a boolean`},
		{"nothing to assign", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam","assign_ipv4":"false"}}`, `assign_ipv4 and assign_ipv6 are both false`},
		{"mtu too small", `{"name":"n","type":"calico","mtu":20,"ipam":{"type":"calico-ipam"}}`, `"mtu" is 20, below IPv4's minimum`},
		{"no ipam", `{"name":"n","type":"calico"}`, `field "ipam" is required`},
		{"no name", `{"type":"calico","ipam":{"type":"calico-ipam"}}`, `field "name" is required`},
		{"kubernetes datastore without kubeconfig", `{"name":"n","type":"calico","datastore_type":"kubernetes","ipam":{"type":"calico-ipam"}}`, `kubernetes.kubeconfig is empty`},
		{"unknown datastore", `{"name":"n","type":"calico","datastore_type":"consul","ipam":{"type":"calico-ipam"}}`, `"datastore_type" is "consul"; use etcdv3 or kubernetes`},
		{"bad log level", `{"name":"n","type":"calico","log_level":"loud","ipam":{"type":"calico-ipam"}}`, `"log_level" is "loud"`},
		{"not JSON", `{"name":`, `not valid JSON`},
		{"label without key", `{"name":"n","type":"calico","ipam":{"type":"calico-ipam"},"args":{"cni":{"labels":[{"value":"x"}]}}}`, `args.cni.labels[0]: key is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseNetConf([]byte(tc.conf))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.Name == "" {
					t.Fatal("name not parsed")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v; want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseNetConf_IPAMDefaultsAreCalicos(t *testing.T) {
	c, err := ParseNetConf([]byte(`{"name":"n","type":"calico","ipam":{"type":"calico-ipam"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.IPAM.WantIPv4() || c.IPAM.WantIPv6() {
		t.Fatalf("defaults: ipv4 %v ipv6 %v; want true, false", c.IPAM.WantIPv4(), c.IPAM.WantIPv6())
	}
}

func TestKnownFields_MatchStruct(t *testing.T) {
	var tags []string
	typ := reflect.TypeOf(NetConf{})
	for i := 0; i < typ.NumField(); i++ {
		name := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		if name != "" && name != "-" {
			tags = append(tags, name)
		}
	}
	sort.Strings(tags)
	known := append([]string(nil), netConfFields...)
	sort.Strings(known)
	if strings.Join(tags, " ") != strings.Join(known, " ") {
		t.Fatalf("netConfFields and NetConf's json tags differ:\n%v\n%v", known, tags)
	}
}

func TestParseIPAMNetConf_IgnoresTheMainPluginsFields(t *testing.T) {
	c, err := ParseIPAMNetConf([]byte(`{"name":"n","type":"bridge","bridge":"cni0","isGateway":true,"ipam":{"type":"calico-ipam","assign_ipv6":"true"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !c.IPAM.WantIPv6() {
		t.Fatal("assign_ipv6 lost")
	}
	if _, err := ParseIPAMNetConf([]byte(`{"name":"n","type":"bridge","ipam":{"type":"host-local"}}`)); err == nil || !strings.Contains(err.Error(), `calico-ipam serves only`) {
		t.Fatalf("want a refusal of a non-calico ipam type, got %v", err)
	}
}

func TestNodenameAndMTU_FollowCalicosOrder(t *testing.T) {
	dir := t.TempDir()
	c := &NetConf{}
	if err := os.WriteFile(filepath.Join(dir, "nodename"), []byte("from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.ResolveNodename(dir); n != "from-file" {
		t.Fatalf("nodename %q; want the nodename file's", n)
	}
	c.Nodename = "explicit"
	if n, _ := c.ResolveNodename(dir); n != "explicit" {
		t.Fatalf("nodename %q; want the config's", n)
	}
	missing := &NetConf{NodenameFile: filepath.Join(dir, "nope")}
	if _, err := missing.ResolveNodename(dir); err == nil || !strings.Contains(err.Error(), "nodename_file_optional") {
		t.Fatalf("missing nodename_file: %v", err)
	}
	if mtu, _ := c.EffectiveMTU(dir); mtu != 1500 {
		t.Fatalf("mtu %d without config or file; want 1500", mtu)
	}
	_ = os.WriteFile(filepath.Join(dir, "mtu"), []byte("1430\n"), 0o644)
	if mtu, _ := c.EffectiveMTU(dir); mtu != 1430 {
		t.Fatalf("mtu %d; want 1430 from the mtu file", mtu)
	}
	c.MTU = 9000
	if mtu, _ := c.EffectiveMTU(dir); mtu != 9000 {
		t.Fatalf("mtu %d; want the config's 9000", mtu)
	}
	_ = os.WriteFile(filepath.Join(dir, "mtu"), []byte("big"), 0o644)
	if _, err := (&NetConf{}).EffectiveMTU(dir); err == nil || !strings.Contains(err.Error(), "not an MTU") {
		t.Fatalf("bad mtu file: %v", err)
	}
}

func TestWorkload_NamesFollowCalico(t *testing.T) {
	conf := &NetConf{Name: "k8s-pod-network"}
	_ = json.Unmarshal([]byte(`{"cni":{"labels":[{"key":"app","value":"db"}]}}`), &conf.Args)
	conf.RuntimeConfig.PodAnnotations = map[string]string{AnnotationIPv4Pools: `["pool-a"]`, AnnotationIPAddrs: `["10.244.1.5"]`}
	w, err := NewWorkload(conf, "0123456789abcdef", "/run/netns/x", "eth0", "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=db-0", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	// cali + first 11 hex digits of sha1("prod.db-0").
	if got := w.HostVethName(); got != "cali20aafc107a9" {
		t.Fatalf("veth %q", got)
	}
	if len(w.HostVethName()) != 15 {
		t.Fatalf("veth name %q is not 15 characters", w.HostVethName())
	}
	if w.HandleID() != "k8s-pod-network.0123456789abcdef" {
		t.Fatalf("handle %q", w.HandleID())
	}
	if w.Labels["app"] != "db" || w.Labels[LabelNamespace] != "prod" || w.Labels[LabelOrchestrator] != "k8s" {
		t.Fatalf("labels %v", w.Labels)
	}
	if len(w.IPv4Pools) != 1 || w.IPv4Pools[0] != "pool-a" || len(w.RequestedIPs) != 1 || w.RequestedIPs[0].String() != "10.244.1.5" {
		t.Fatalf("annotations not honoured: pools %v ips %v", w.IPv4Pools, w.RequestedIPs)
	}
	wep, err := w.WorkloadEndpoint("cali20aafc107a9", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if wep.Name != "node--1-k8s-db--0-eth0" || wep.Namespace != "prod" {
		t.Fatalf("WEP %s/%s", wep.Namespace, wep.Name)
	}

	plain, err := NewWorkload(conf, "0123456789abcdef", "/run/netns/x", "eth0", "", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	if plain.HostVethName() != "cali0123456789a" || plain.Orchestrator != OrchestratorCNI || plain.Profiles()[0] != "k8s-pod-network" {
		t.Fatalf("plain CNI workload: veth %q orchestrator %q profiles %v", plain.HostVethName(), plain.Orchestrator, plain.Profiles())
	}
	if _, err := ParseCNIArgs("K8S_POD_NAME"); err == nil {
		t.Fatal("CNI_ARGS pair without '=' accepted")
	}
	bad := &NetConf{Name: "n", RuntimeConfig: RuntimeConfig{PodAnnotations: map[string]string{AnnotationIPAddrs: "10.0.0.1"}}}
	if _, err := NewWorkload(bad, "c", "", "eth0", "", "n"); err == nil || !strings.Contains(err.Error(), "not a JSON list") {
		t.Fatalf("malformed ipAddrs annotation: %v", err)
	}
}
