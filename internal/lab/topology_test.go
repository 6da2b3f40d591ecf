package lab

import (
	"reflect"
	"strings"
	"testing"
)

func TestFlagTopology_SpreadsNodesOverSubnetsInOrder(t *testing.T) {
	cases := []struct {
		nodes, subnets int
		want           []string // subnet of each node
	}{
		{1, 1, []string{"s1"}},
		{2, 2, []string{"s1", "s2"}},
		{3, 2, []string{"s1", "s1", "s2"}},
		{5, 3, []string{"s1", "s1", "s2", "s2", "s3"}},
	}
	for _, c := range cases {
		topo, err := FlagTopology(c.nodes, c.subnets)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range topo.Nodes {
			got = append(got, n.Subnet)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%d nodes on %d subnets: got %v, want %v", c.nodes, c.subnets, got, c.want)
		}
		if err := topo.Resolve(); err != nil {
			t.Errorf("%d/%d: %v", c.nodes, c.subnets, err)
		}
	}
}

func TestFlagTopology_RejectsImpossibleCounts(t *testing.T) {
	for _, c := range []struct{ nodes, subnets int }{{0, 1}, {2, 3}, {2, 0}, {201, 1}} {
		if _, err := FlagTopology(c.nodes, c.subnets); err == nil {
			t.Errorf("%d nodes on %d subnets: no error", c.nodes, c.subnets)
		}
	}
}

func TestResolve_FillsDefaultsAndAddresses(t *testing.T) {
	topo, err := ParseTopology([]byte(`
subnets:
- {name: rack-a, cidr: 198.18.1.0/24}
- {name: rack-b, cidr: 198.18.2.0/24}
nodes:
- {name: a1, subnet: rack-a}
- {name: a2, subnet: rack-a, address: 198.18.1.2}
- {name: b1, subnet: rack-b}
pods:
- {name: web, node: a1, labels: {app: web}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Resolve(); err != nil {
		t.Fatal(err)
	}
	// a2 asked for .2, so a1 gets the next free address.
	got := []string{topo.Nodes[0].Address, topo.Nodes[1].Address, topo.Nodes[2].Address}
	if want := []string{"198.18.1.3", "198.18.1.2", "198.18.2.2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("addresses %v, want %v", got, want)
	}
	if topo.Pool.CIDR != "10.244.0.0/16" || topo.Pool.VXLANMode != "CrossSubnet" || topo.Pool.IPIPMode != "Never" ||
		topo.Backend != "bird" || topo.Datastore != "embedded" || topo.NodeIP != "autodetect" {
		t.Errorf("defaults not filled: %+v", topo)
	}
	if topo.Pods[0].Namespace != "default" {
		t.Errorf("pod namespace %q, want default", topo.Pods[0].Namespace)
	}
	if s, _ := topo.SubnetOf("rack-b"); s.Gateway().String() != "198.18.2.1" || s.Bits() != 24 {
		t.Errorf("rack-b gateway %s/%d", s.Gateway(), s.Bits())
	}
}

func TestResolve_IPIPPoolTurnsDefaultVXLANOff(t *testing.T) {
	topo, _ := FlagTopology(1, 1)
	topo.Pool.IPIPMode = "Always"
	if err := topo.Resolve(); err != nil {
		t.Fatal(err)
	}
	if topo.Pool.VXLANMode != "Never" {
		t.Errorf("vxlanMode %q with ipipMode Always, want Never", topo.Pool.VXLANMode)
	}
}

func TestResolve_ReportsEveryProblemNamingTheField(t *testing.T) {
	topo := &Topology{
		Subnets: []Subnet{
			{Name: "s1", CIDR: "198.18.1.0/24"},
			{Name: "s2", CIDR: "198.18.1.128/25"},
			{Name: "s3", CIDR: "10.0.0.0/24"},
			{Name: "s4", CIDR: "198.18.0.0/24"},
		},
		Nodes: []Node{
			{Name: "n1", Subnet: "s1", Address: "198.18.1.1"},
			{Name: "fabric", Subnet: "s1"},
			{Name: "n3", Subnet: "nope"},
			{Name: "n1", Subnet: "s1"},
		},
		Pool:    Pool{CIDR: "10.244.0.0", VXLANMode: "Always", IPIPMode: "Always"},
		Backend: "calico",
		Pods:    []PodSpec{{Name: "Web", Node: "n9", Labels: map[string]string{"bad key": "v"}}},
	}
	err := topo.Resolve()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`pool.cidr "10.244.0.0"`,
		"vxlanMode Always and ipipMode Always are both on",
		`backend "calico"`,
		"s2: cidr 198.18.1.128/25 overlaps subnet s1",
		"s3: cidr 10.0.0.0/24 must be inside 198.18.0.0/15",
		"s4: cidr 198.18.0.0/24 holds the datastore address",
		`n1: address "198.18.1.1" is not a host address of subnet s1 (198.18.1.0/24) other than the gateway`,
		`nodes[1].name "fabric" is reserved`,
		`n3: subnet "nope" is not defined`,
		`nodes[3].name "n1" is used twice`,
		`name "Web"`,
		`node "n9" is not a node of the lab`,
		"label bad key=v",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestResolve_FullSubnetIsReported(t *testing.T) {
	topo := &Topology{Subnets: []Subnet{{Name: "tiny", CIDR: "198.18.4.0/29"}}}
	for i := 0; i < 6; i++ {
		topo.Nodes = append(topo.Nodes, Node{Name: "n" + string(rune('a'+i)), Subnet: "tiny"})
	}
	err := topo.Resolve()
	// .2–.6 are free (5 hosts), the sixth node has none.
	if err == nil || !strings.Contains(err.Error(), "nf: subnet tiny (198.18.4.0/29) has no free address left") {
		t.Fatalf("got %v", err)
	}
}

func TestParseTopology_UnknownFieldIsAnError(t *testing.T) {
	_, err := ParseTopology([]byte("nodes: []\nsubnet: []\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "subnet"`) {
		t.Fatalf("got %v", err)
	}
}

func TestParseLabels_AcceptsRepeatsAndCommas(t *testing.T) {
	got, err := ParseLabels([]string{"app=web,tier=front", "env=", " x=y "})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"app": "web", "tier": "front", "env": "", "x": "y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := ParseLabels([]string{"novalue"}); err == nil || !strings.Contains(err.Error(), "write key=value") {
		t.Errorf("novalue: %v", err)
	}
}

func TestNames_CarryTheRunPrefix(t *testing.T) {
	for _, n := range []string{FabricNetns("ab12"), NodeNetns("ab12", "node-1"), PodNetns("ab12", "prod", "web")} {
		if !strings.HasPrefix(n, "lab-ab12-") {
			t.Errorf("%s lacks the run prefix", n)
		}
	}
	for id, ok := range map[string]bool{"ab12": true, NewRunID(): true, "": false, "a-b": false, "ABC": false, "123456789": false} {
		if (ValidateRunID(id) == nil) != ok {
			t.Errorf("ValidateRunID(%q) ok=%v, want %v", id, !ok, ok)
		}
	}
}

func TestMatrix_StringAndFailures(t *testing.T) {
	m := &Matrix{Pods: []string{"default/a", "prod/b"}, OK: [][]bool{{false, true}, {false, false}}, Proto: ProtoICMP}
	want := "FROM \\ TO  default/a  prod/b\n" +
		"default/a  .          ok\n" +
		"prod/b     --         .\n"
	if got := m.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := m.Failures(); !reflect.DeepEqual(got, []string{"prod/b -> default/a"}) {
		t.Errorf("failures %v", got)
	}
}

func TestStateFindPod_ByNameOrNamespacedName(t *testing.T) {
	s := &State{RunID: "x", Pods: []Pod{{Name: "web", Namespace: "a"}, {Name: "web", Namespace: "b"}, {Name: "db", Namespace: "a"}}}
	if p, err := s.findPod("db"); err != nil || p.Namespace != "a" {
		t.Errorf("db: %v %v", p, err)
	}
	if p, err := s.findPod("b/web"); err != nil || p.Namespace != "b" {
		t.Errorf("b/web: %v %v", p, err)
	}
	if _, err := s.findPod("web"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("web: %v", err)
	}
	if _, err := s.findPod("nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("nope: %v", err)
	}
}

func TestLoadTopology_ExampleFilesResolve(t *testing.T) {
	for file, ok := range map[string]func(*Topology) bool{
		"testdata/three-nodes.yaml": func(topo *Topology) bool {
			return len(topo.Nodes) == 3 && len(topo.Pods) == 3 && topo.Nodes[2].Address == "198.18.2.2" && topo.Env["FELIX_LOGSEVERITYSCREEN"] == "Info"
		},
		"testdata/dual-stack.yaml": func(topo *Topology) bool {
			return topo.IPv6 && topo.Pool6.CIDR == DefaultPool6CIDR && topo.Pool6.BlockSize == 122 && len(topo.Pods) == 2
		},
	} {
		topo, err := LoadTopology(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := topo.Resolve(); err != nil {
			t.Fatal(err)
		}
		if !ok(topo) {
			t.Errorf("%s: unexpected topology: %+v", file, topo)
		}
	}
}

func TestResolve_ExternalHostsShareAddressingWithNodes(t *testing.T) {
	tests := []struct {
		name    string
		topo    Topology
		want    map[string]string // host → address
		wantErr string
	}{{
		name: "next free address after explicit ones",
		topo: Topology{
			Subnets:       []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}, {Name: "outside", CIDR: "198.18.100.0/24"}},
			Nodes:         []Node{{Name: "node-1", Subnet: "s1"}, {Name: "node-2", Subnet: "s1", Address: "198.18.1.3"}},
			ExternalHosts: []ExternalHost{{Name: "web", Subnet: "outside"}, {Name: "dns", Subnet: "s1"}},
		},
		want: map[string]string{"node-1": "198.18.1.2", "node-2": "198.18.1.3", "web": "198.18.100.2", "dns": "198.18.1.4"},
	}, {
		name: "name shared with a node",
		topo: Topology{
			Subnets:       []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
			Nodes:         []Node{{Name: "node-1", Subnet: "s1"}},
			ExternalHosts: []ExternalHost{{Name: "node-1", Subnet: "s1"}},
		},
		wantErr: `externalHosts[0].name "node-1" is used twice`,
	}, {
		name: "address taken by a node",
		topo: Topology{
			Subnets:       []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
			Nodes:         []Node{{Name: "node-1", Subnet: "s1", Address: "198.18.1.9"}},
			ExternalHosts: []ExternalHost{{Name: "ext", Subnet: "s1", Address: "198.18.1.9"}},
		},
		wantErr: "externalHosts[0] ext: address 198.18.1.9 is already node-1's",
	}, {
		name: "unknown subnet",
		topo: Topology{
			Subnets:       []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
			Nodes:         []Node{{Name: "node-1", Subnet: "s1"}},
			ExternalHosts: []ExternalHost{{Name: "ext", Subnet: "internet"}},
		},
		wantErr: `externalHosts[0] ext: subnet "internet" is not defined in subnets`,
	}, {
		name: "pods cannot run on an external host",
		topo: Topology{
			Subnets:       []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
			Nodes:         []Node{{Name: "node-1", Subnet: "s1"}},
			ExternalHosts: []ExternalHost{{Name: "ext", Subnet: "s1"}},
			Pods:          []PodSpec{{Name: "p", Node: "ext"}},
		},
		wantErr: `node "ext" is not a node of the lab`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.topo.Resolve()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, n := range tt.topo.Nodes {
				got[n.Name] = n.Address
			}
			for _, h := range tt.topo.ExternalHosts {
				got[h.Name] = h.Address
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("addresses %v, want %v", got, tt.want)
			}
		})
	}
}
