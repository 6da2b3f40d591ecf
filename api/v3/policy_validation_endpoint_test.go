package v3

import "testing"

func TestTierValidation_NamesOrdersAndDefaultAction(t *testing.T) {
	const head = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: "
	runPolicyCases(t, []policyCase{
		{"user tier", head + "security\nspec:\n  order: 100\n  defaultAction: Pass\n", "", ""},
		{"default tier gets its order", head + "default\nspec: {}\n", "", ""},
		{"default tier wrong order", head + "default\nspec:\n  order: 5\n", "spec.order", "fixed at 1e+06"},
		{"anp tier wrong order", head + "adminnetworkpolicy\nspec:\n  order: 5\n", "spec.order", "fixed at 1000"},
		{"dotted name", head + "sec.ops\nspec: {}\n", "metadata.name", "no '.'"},
		{"long name", head + "a234567890123456789012345678901234567890123456789012345678901234\nspec: {}\n", "metadata.name", "over the 63 limit"},
		{"allow is not a tier action", head + "security\nspec:\n  defaultAction: Allow\n", "spec.defaultAction", "use Deny (default) or Pass"},
	})
}

func TestEndpointValidation_HostEndpoint(t *testing.T) {
	const head = "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata:\n  name: node1-eth0\n  labels: {role: worker}\nspec:\n"
	runPolicyCases(t, []policyCase{
		{"interface", head + "  node: node1\n  interfaceName: eth0\n  expectedIPs: [192.0.2.10]\n  profiles: [web]\n  ports:\n  - {name: http, port: 80, protocol: TCP}\n", "", ""},
		{"all interfaces", head + "  node: node1\n  interfaceName: \"*\"\n", "", ""},
		{"expected IPs only", head + "  node: node1\n  expectedIPs: [\"fd00::10\"]\n", "", ""},
		{"no node", head + "  interfaceName: eth0\n", "spec.node", "is required"},
		{"neither interface nor IPs", head + "  node: node1\n", "spec.interfaceName", "expectedIPs"},
		{"bad expected IP", head + "  node: node1\n  expectedIPs: [10.0.0.0/8]\n", "spec.expectedIPs[0]", "not an IP address"},
		{"long interface", head + "  node: node1\n  interfaceName: abcdefghijklmnop\n", "spec.interfaceName", "at most 15"},
		{"port without name", head + "  node: node1\n  interfaceName: eth0\n  ports:\n  - {name: \"\", port: 80, protocol: TCP}\n", "spec.ports[0].name", "is required"},
		{"port on icmp", head + "  node: node1\n  interfaceName: eth0\n  ports:\n  - {name: ping, port: 1, protocol: ICMP}\n", "spec.ports[0].protocol", "has no ports"},
		{"bad port name", head + "  node: node1\n  interfaceName: eth0\n  ports:\n  - {name: HTTP_port, port: 80, protocol: TCP}\n", "spec.ports[0].name", "not a valid port name"},
	})
}

func TestEndpointValidation_WorkloadEndpoint(t *testing.T) {
	const head = "apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  namespace: default\n"
	const ok = "spec:\n  orchestrator: k8s\n  node: node-1\n  pod: web-0\n  endpoint: eth0\n  interfaceName: cali0ef24ba0123\n"
	const name = "  name: node--1-k8s-web--0-eth0\n"
	runPolicyCases(t, []policyCase{
		{"k8s pod", head + name + ok + "  ipNetworks: [10.244.1.5/32, \"fd00::5\"]\n  ipv4Gateway: 169.254.1.1\n  mac: \"ee:ee:ee:ee:ee:ee\"\n  profiles: [kns.default]\n  ports:\n  - {name: http, port: 8080, protocol: TCP, hostPort: 0, hostIP: \"\"}\n  - {name: \"\", port: 53, protocol: UDP, hostPort: 5353, hostIP: 198.18.0.1}\n", "", ""},
		{"wrong name", head + "  name: node-1-k8s-web-0-eth0\n" + ok, "metadata.name", `name it "node--1-k8s-web--0-eth0"`},
		{"missing pod", head + name + "spec:\n  orchestrator: k8s\n  node: node-1\n  endpoint: eth0\n  interfaceName: cali1\n", "spec.pod", "is required"},
		{"missing interface", head + name + "spec:\n  orchestrator: k8s\n  node: node-1\n  pod: web-0\n  endpoint: eth0\n", "spec.interfaceName", "is required"},
		{"network too wide", head + name + ok + "  ipNetworks: [10.244.1.0/24]\n", "spec.ipNetworks[0]", "must be /32"},
		{"gateway family", head + name + ok + "  ipv6Gateway: 169.254.1.1\n", "spec.ipv6Gateway", "not an IPv6 address"},
		{"nat outside networks", head + name + ok + "  ipNetworks: [10.244.1.5/32]\n  ipNATs:\n  - {internalIP: 10.244.1.6, externalIP: 192.0.2.6}\n", "spec.ipNATs[0].internalIP", "not one of the endpoint's ipNetworks"},
		{"nat family mismatch", head + name + ok + "  ipNetworks: [10.244.1.5/32]\n  ipNATs:\n  - {internalIP: 10.244.1.5, externalIP: \"2001:db8::6\"}\n", "spec.ipNATs[0].externalIP", "different IP versions"},
		{"bad mac", head + name + ok + "  mac: zz\n", "spec.mac", "not a MAC address"},
		{"unnamed port without hostPort", head + name + ok + "  ports:\n  - {name: \"\", port: 80, protocol: TCP, hostPort: 0, hostIP: \"\"}\n", "spec.ports[0].name", "required unless hostPort"},
		{"spoof prefixes", head + name + ok + "  allowSpoofedSourcePrefixes: [10.1.2.3/16, bogus]\n", "spec.allowSpoofedSourcePrefixes[1]", "not an IP address or CIDR"},
	})
}

func TestEndpointValidation_ProfileAndNetworkSets(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"profile", "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: kns.default\nspec:\n  labelsToApply: {pcns.projectcalico.org/name: default}\n  ingress:\n  - action: Allow\n", "", ""},
		{"profile label", "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: p\nspec:\n  labelsToApply: {\"bad key\": x}\n", "spec.labelsToApply", "label key"},
		{"profile rule", "apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata:\n  name: p\nspec:\n  egress:\n  - action: Jump\n", "spec.egress[0].action", "use Allow, Deny, Log or Pass"},
		{"netset host bits allowed", "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: db\n  namespace: ns1\nspec:\n  nets: [10.1.2.3/24, 192.0.2.7, \"fd00::/64\"]\n", "", ""},
		{"netset bad net", "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: db\n  namespace: ns1\nspec:\n  nets: [10.0.0.0/40]\n", "spec.nets[0]", "not a valid CIDR"},
		{"gnetset reserved label", "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: blocked\n  labels: {projectcalico.org/namespace: x}\nspec:\n  nets: [198.51.100.0/24]\n", "metadata.labels", "reserved"},
		{"gnetset namespace", "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: blocked\n  namespace: x\nspec: {}\n", "metadata.namespace", "cluster-scoped"},
	})
}

func TestWorkloadEndpointSpec_ExpectedNameFollowsOrchestrator(t *testing.T) {
	for _, tc := range []struct {
		spec      WorkloadEndpointSpec
		want      string
		wantField string
	}{
		{WorkloadEndpointSpec{Node: "n-1", Orchestrator: "k8s", Pod: "web-0", Endpoint: "eth0"}, "n--1-k8s-web--0-eth0", ""},
		{WorkloadEndpointSpec{Node: "n1", Orchestrator: "cni", ContainerID: "abc123", Endpoint: "eth0"}, "n1-cni-abc123-eth0", ""},
		{WorkloadEndpointSpec{Node: "n1", Orchestrator: "libnetwork", Endpoint: "ep1"}, "n1-libnetwork-libnetwork-ep1", ""},
		{WorkloadEndpointSpec{Node: "n1", Orchestrator: "openstack", Workload: "vm1", Endpoint: "tap1"}, "n1-openstack-vm1-tap1", ""},
		{WorkloadEndpointSpec{Orchestrator: "k8s", Pod: "p", Endpoint: "eth0"}, "", "spec.node"},
		{WorkloadEndpointSpec{Node: "n1", Orchestrator: "k8s", Pod: "p-", Endpoint: "eth0"}, "", "spec.pod"},
	} {
		got, err := tc.spec.ExpectedName()
		switch {
		case tc.wantField != "" && (err == nil || err.field != tc.wantField):
			t.Errorf("%+v: err %v, want one naming %s", tc.spec, err, tc.wantField)
		case tc.wantField == "" && (err != nil || got != tc.want):
			t.Errorf("%+v: got %q, %v; want %q", tc.spec, got, err, tc.want)
		}
	}
}

func TestStagedPolicy_EnforcedCopiesSpecDeeply(t *testing.T) {
	s := NewStagedGlobalNetworkPolicy()
	s.Name = "security.p"
	s.Spec = StagedGlobalNetworkPolicySpec{StagedAction: StagedActionSet, Tier: "security", PreDNAT: true, ApplyOnForward: true,
		Ingress: []Rule{{Action: Deny}}, NamespaceSelector: "a == 'b'"}
	action, p := s.Enforced()
	if action != StagedActionSet || p.Name != "security.p" || !p.Spec.PreDNAT || p.Spec.NamespaceSelector != "a == 'b'" || p.Kind != KindGlobalNetworkPolicy {
		t.Fatalf("Enforced() = %q, %+v", action, p)
	}
	p.Spec.Ingress[0].Action = Allow
	if s.Spec.Ingress[0].Action != Deny {
		t.Fatalf("Enforced shares rule storage with the staged policy")
	}
}
