package lab

import (
	"strings"
	"testing"
)

func TestTopology_DualStackFillsPool6AndDerivesIPv6Addresses(t *testing.T) {
	topo, err := ParseTopology([]byte(`
subnets:
- {name: rack-a, cidr: 198.18.1.0/24}
- {name: rack-b, cidr: 198.18.20.0/29}
nodes:
- {name: a1, subnet: rack-a}
- {name: b1, subnet: rack-b}
ipv6: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Resolve(); err != nil {
		t.Fatal(err)
	}
	if p := topo.Pool6; p.CIDR != "fd00:10:244::/64" || p.VXLANMode != "Never" || p.IPIPMode != "Never" || p.BlockSize != 0 {
		t.Errorf("pool6 %+v, want fd00:10:244::/64, VXLAN Never, IPIP Never, calico-node's block size", p)
	}
	a, _ := topo.SubnetOf("rack-a")
	b, _ := topo.SubnetOf("rack-b")
	for _, c := range []struct{ what, got, want string }{
		{"rack-a cidr6", a.CIDR6().String(), "fd00:198:18::c612:100/120"},
		{"rack-a gateway6", a.Gateway6().String(), "fd00:198:18::c612:101"},
		{"rack-b cidr6", b.CIDR6().String(), "fd00:198:18::c612:1400/125"},
		{"a1 address6", Address6(topo.Nodes[0].Address), "fd00:198:18::c612:102"},
		{"b1 address6", Address6(topo.Nodes[1].Address), "fd00:198:18::c612:1402"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.what, c.got, c.want)
		}
	}
}

func TestTopology_DualStackProblemsNameTheField(t *testing.T) {
	for _, c := range []struct {
		name string
		topo Topology
		want string
	}{
		{"pool6 without ipv6", Topology{Pool6: Pool{CIDR: "fd00:10:244::/64"}},
			"pool6 is set but ipv6 is not true"},
		{"IPv4 pool6", Topology{IPv6: true, Pool6: Pool{CIDR: "10.245.0.0/16"}},
			`pool6.cidr "10.245.0.0/16" is not an IPv6 CIDR`},
		{"pool6 on the fabric", Topology{IPv6: true, Pool6: Pool{CIDR: "fd00:198:18::/96"}},
			"pool6.cidr fd00:198:18::/96 overlaps the fabric's fd00:198:18::/64"},
		{"IPIP over IPv6", Topology{IPv6: true, Pool6: Pool{IPIPMode: "Always"}},
			`pool6.ipipMode "Always": IPIP carries IPv4 only`},
		{"block size", Topology{IPv6: true, Pool6: Pool{BlockSize: 26}},
			"pool6.blockSize 26: use 116 to 128"},
		{"vxlan mode", Topology{IPv6: true, Pool6: Pool{VXLANMode: "Sometimes"}},
			`pool6.vxlanMode "Sometimes"`},
	} {
		topo := c.topo
		topo.Subnets = []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}}
		topo.Nodes = []Node{{Name: "n1", Subnet: "s1"}}
		if err := topo.Resolve(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.want)
		}
	}
}

// envOf is calico-node's environment for the topology's first node.
func envOf(t *testing.T, topo *Topology) map[string]string {
	t.Helper()
	if err := topo.Resolve(); err != nil {
		t.Fatal(err)
	}
	l := &Lab{st: &State{RunID: "t", Dir: "/run/calico-lab/t", Topology: *topo}}
	env := map[string]string{}
	for _, kv := range l.nodeEnv(0) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

func TestTopology_DualStackNodeGetsCalicosIPv6Knobs(t *testing.T) {
	topo, _ := FlagTopology(2, 1)
	topo.IPv6 = true
	env := envOf(t, topo)
	for k, want := range map[string]string{
		"FELIX_IPV6SUPPORT":        "true",
		"IP6":                      "autodetect",
		"IP6_AUTODETECTION_METHOD": "first-found",
		"CALICO_IPV6POOL_CIDR":     "fd00:10:244::/64",
		"CALICO_IPV6POOL_VXLAN":    "Never",
		"IP":                       "autodetect",
		"CALICO_IPV4POOL_CIDR":     "10.244.0.0/16",
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["CALICO_IPV6POOL_BLOCK_SIZE"]; ok {
		t.Errorf("CALICO_IPV6POOL_BLOCK_SIZE set without pool6.blockSize; calico-node's default (122) should apply")
	}

	topo, _ = FlagTopology(2, 1)
	topo.IPv6, topo.NodeIP, topo.Pool6.BlockSize = true, NodeIPExplicit, 124
	env = envOf(t, topo)
	if env["IP6"] != "fd00:198:18::c612:102/120" || env["IP"] != "198.18.1.2/24" || env["CALICO_IPV6POOL_BLOCK_SIZE"] != "124" {
		t.Errorf("explicit node IPs: IP=%s IP6=%s CALICO_IPV6POOL_BLOCK_SIZE=%s; want 198.18.1.2/24, fd00:198:18::c612:102/120, 124",
			env["IP"], env["IP6"], env["CALICO_IPV6POOL_BLOCK_SIZE"])
	}
}

func TestTopology_IPv4LabKeepsIPv6Off(t *testing.T) {
	topo, _ := FlagTopology(2, 1)
	env := envOf(t, topo)
	if env["FELIX_IPV6SUPPORT"] != "false" {
		t.Errorf("FELIX_IPV6SUPPORT=%q in an IPv4 lab, want false", env["FELIX_IPV6SUPPORT"])
	}
	for k := range env {
		if k == "IP6" || strings.HasPrefix(k, "IP6_") || strings.HasPrefix(k, "CALICO_IPV6POOL_") {
			t.Errorf("%s=%s set in an IPv4 lab", k, env[k])
		}
	}
}

func TestPodTable_IPv6ColumnOnlyInADualStackLab(t *testing.T) {
	v4 := Pod{Name: "a", Namespace: "default", Node: "node-1", IP: "10.244.0.1", HostIface: "cali1"}
	if got := PodTable([]Pod{v4}); strings.Contains(got, "IPV6") {
		t.Errorf("IPv4-only pods got an IPV6 column:\n%s", got)
	}
	v6 := v4
	v6.IP6 = "fd00:10:244::1"
	got := PodTable([]Pod{v6})
	lines := strings.Split(got, "\n")
	if !strings.Contains(lines[0], "IP  ") || !strings.Contains(lines[0], "IPV6") || !strings.Contains(lines[1], "10.244.0.1  fd00:10:244::1  cali1") {
		t.Errorf("dual-stack pod table:\n%s", got)
	}
}
