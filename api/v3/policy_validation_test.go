package v3

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tricolor-net/tricolor/internal/selector"
)

// decodePolicyDoc decodes one YAML document strictly into the kind it names.
func decodePolicyDoc(t *testing.T, doc string) Resource {
	t.Helper()
	var tm struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
		t.Fatalf("read kind: %v", err)
	}
	r, err := NewResource(tm.Kind)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if err := yaml.UnmarshalStrict([]byte(doc), r); err != nil {
		t.Fatalf("decode %s: %v", tm.Kind, err)
	}
	return r
}

// policyCase is one validation story: a document, and either no error or an
// error whose text names wantField and contains wantText.
type policyCase struct {
	name      string
	doc       string
	wantField string
	wantText  string
}

func runPolicyCases(t *testing.T, cases []policyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decodePolicyDoc(t, tc.doc)
			r.Default()
			err := r.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error naming %s (%q), got none", tc.wantField, tc.wantText)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantField+": ") || !strings.Contains(msg, tc.wantText) {
				t.Fatalf("error %q\nwant field %q and text %q", msg, tc.wantField, tc.wantText)
			}
		})
	}
}

const gnpHead = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: p\nspec:\n"
const npHead = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: ns1\nspec:\n"

func TestRuleValidation_PortsNeedPortProtocol(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"tcp with ports", npHead + "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [80, \"8080:8090\", http]\n", "", ""},
		{"numeric protocol 17 has ports", npHead + "  ingress:\n  - action: Allow\n    protocol: 17\n    destination:\n      ports: [53]\n", "", ""},
		{"sctp with ports", npHead + "  ingress:\n  - action: Allow\n    protocol: SCTP\n    source:\n      notPorts: [9]\n", "", ""},
		{"no protocol", npHead + "  ingress:\n  - action: Allow\n    destination:\n      ports: [80]\n",
			"spec.ingress[0].destination.ports", "ports need protocol TCP, UDP or SCTP; set spec.ingress[0].protocol"},
		{"icmp has no ports", npHead + "  egress:\n  - action: Allow\n    protocol: ICMP\n    source:\n      notPorts: [80]\n",
			"spec.egress[0].source.notPorts", "protocol ICMP has no ports"},
		{"port zero", npHead + "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [0]\n",
			"spec.ingress[0].destination.ports[0]", "port numbers are 1-65535"},
		{"range from zero", npHead + "  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [\"0:10\"]\n",
			"spec.ingress[0].destination.ports[0]", "1-65535"},
	})
}

func TestRuleValidation_ActionProtocolAndIPVersion(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"missing action", npHead + "  ingress:\n  - protocol: TCP\n", "spec.ingress[0].action", "is required"},
		{"lower-case action", npHead + "  ingress:\n  - action: allow\n", "spec.ingress[0].action", `write "Allow"`},
		{"unknown action", npHead + "  ingress:\n  - action: Accept\n", "spec.ingress[0].action", "use Allow, Deny, Log or Pass"},
		{"all four actions", npHead + "  ingress:\n  - action: Log\n  - action: Pass\n  - action: Deny\n  - action: Allow\n", "", ""},
		{"lower-case protocol", npHead + "  ingress:\n  - action: Allow\n    protocol: tcp\n", "spec.ingress[0].protocol", `write "TCP"`},
		{"unknown protocol", npHead + "  ingress:\n  - action: Allow\n    notProtocol: GRE\n", "spec.ingress[0].notProtocol", "is not a protocol"},
		{"protocol zero", npHead + "  ingress:\n  - action: Allow\n    protocol: 0\n", "spec.ingress[0].protocol", "use 1-255"},
		{"protocol 47", npHead + "  ingress:\n  - action: Allow\n    protocol: 47\n", "", ""},
		{"ipVersion 5", npHead + "  ingress:\n  - action: Allow\n    ipVersion: 5\n", "spec.ingress[0].ipVersion", "use 4 or 6"},
	})
}

func TestRuleValidation_ICMP(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"ping", gnpHead + "  ingress:\n  - action: Allow\n    protocol: ICMP\n    icmp: {type: 8, code: 0}\n", "", ""},
		{"icmpv6 with ipVersion 6", gnpHead + "  ingress:\n  - action: Allow\n    ipVersion: 6\n    protocol: ICMPv6\n    icmp: {type: 128}\n", "", ""},
		{"icmp without protocol", gnpHead + "  ingress:\n  - action: Allow\n    icmp: {type: 8}\n", "spec.ingress[0].icmp", "icmp needs protocol ICMP or ICMPv6; set spec.ingress[0].protocol"},
		{"icmp with TCP", gnpHead + "  ingress:\n  - action: Allow\n    protocol: TCP\n    icmp: {type: 8}\n", "spec.ingress[0].icmp", "icmp needs protocol ICMP or ICMPv6"},
		{"icmp with ipVersion 6", gnpHead + "  ingress:\n  - action: Allow\n    ipVersion: 6\n    protocol: ICMP\n", "spec.ingress[0].ipVersion", "does not match protocol ICMP"},
		{"notProtocol icmpv6 with ipVersion 4", gnpHead + "  ingress:\n  - action: Allow\n    ipVersion: 4\n    notProtocol: ICMPv6\n", "spec.ingress[0].ipVersion", "does not match protocol ICMPv6"},
		{"code without type", gnpHead + "  ingress:\n  - action: Allow\n    protocol: ICMP\n    notICMP: {code: 1}\n", "spec.ingress[0].notICMP.code", "needs a type"},
		{"type 255", gnpHead + "  ingress:\n  - action: Allow\n    protocol: ICMP\n    icmp: {type: 255}\n", "spec.ingress[0].icmp.type", "0-254"},
	})
}

func TestRuleValidation_Nets(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"v4 and v6 in separate rules", gnpHead + "  egress:\n  - action: Allow\n    destination:\n      nets: [10.0.0.0/8]\n  - action: Allow\n    destination:\n      nets: [\"fd00::/8\"]\n", "", ""},
		{"not a CIDR", gnpHead + "  egress:\n  - action: Allow\n    destination:\n      nets: [10.0.0.0/33]\n", "spec.egress[0].destination.nets[0]", "not a valid CIDR"},
		{"host bits", gnpHead + "  egress:\n  - action: Allow\n    source:\n      notNets: [10.1.2.3/8]\n", "spec.egress[0].source.notNets[0]", "use the network address 10.0.0.0/8"},
		{"family vs ipVersion", gnpHead + "  egress:\n  - action: Allow\n    ipVersion: 6\n    destination:\n      nets: [10.0.0.0/8]\n", "spec.egress[0].destination.nets", "does not match spec.egress[0].ipVersion 6"},
		{"mixed families", gnpHead + "  egress:\n  - action: Allow\n    source:\n      nets: [10.0.0.0/8]\n    destination:\n      nets: [\"fd00::/8\"]\n", "spec.egress[0].destination.nets", "mixes IPv4 and IPv6"},
	})
}

func TestRuleValidation_EntitiesServicesAndHTTP(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"global namespace selector alone", npHead + "  ingress:\n  - action: Allow\n    source:\n      namespaceSelector: global()\n      selector: role == 'db'\n", "", ""},
		{"global in selector", npHead + "  ingress:\n  - action: Allow\n    source:\n      selector: global()\n", "spec.ingress[0].source.selector", "move it to spec.ingress[0].source.namespaceSelector"},
		{"global combined", npHead + "  ingress:\n  - action: Allow\n    source:\n      namespaceSelector: global() && a == 'b'\n", "spec.ingress[0].source.namespaceSelector", "cannot be combined"},
		{"egress to service", npHead + "  egress:\n  - action: Allow\n    destination:\n      services: {name: kube-dns, namespace: kube-system}\n", "", ""},
		{"service with selector", npHead + "  egress:\n  - action: Allow\n    destination:\n      selector: a == 'b'\n      services: {name: web}\n", "spec.egress[0].destination.services", "cannot be combined with selector/notSelector"},
		{"service without name", npHead + "  egress:\n  - action: Allow\n    destination:\n      services: {namespace: x}\n", "spec.egress[0].destination.services.name", "is required"},
		{"service with ports", npHead + "  egress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports: [53]\n      services: {name: dns}\n", "spec.egress[0].destination.ports", "cannot be combined with destination.services"},
		{"egress source service", npHead + "  egress:\n  - action: Allow\n    source:\n      services: {name: web}\n", "spec.egress[0].source.services", "not allowed in an egress rule"},
		{"ingress destination service", npHead + "  ingress:\n  - action: Allow\n    destination:\n      services: {name: web}\n", "spec.ingress[0].destination.services", "not allowed in an ingress rule"},
		{"global policy service needs namespace", gnpHead + "  egress:\n  - action: Allow\n    destination:\n      services: {name: web}\n", "spec.egress[0].destination.services.namespace", "is required in a global policy"},
		{"http allow", npHead + "  ingress:\n  - action: Allow\n    http:\n      methods: [GET]\n      paths: [{exact: /healthz}, {prefix: /api}]\n", "", ""},
		{"http with log", npHead + "  ingress:\n  - action: Log\n    http:\n      methods: [GET]\n", "spec.ingress[0].http", "only valid in Allow rules"},
		{"http on udp", npHead + "  ingress:\n  - action: Allow\n    protocol: UDP\n    http:\n      methods: [GET]\n", "spec.ingress[0].protocol", "must use protocol TCP"},
		{"http in egress", npHead + "  egress:\n  - action: Allow\n    http:\n      methods: [GET]\n", "spec.egress[0].http", "not allowed in egress rules"},
		{"http path both", npHead + "  ingress:\n  - action: Allow\n    http:\n      paths: [{exact: /a, prefix: /b}]\n", "spec.ingress[0].http.paths[0]", "not both"},
		{"http path query", npHead + "  ingress:\n  - action: Allow\n    http:\n      paths: [{exact: \"/a?b\"}]\n", "spec.ingress[0].http.paths[0]", "must start with '/'"},
		{"http duplicate method", npHead + "  ingress:\n  - action: Allow\n    http:\n      methods: [GET, GET]\n", "spec.ingress[0].http.methods[1]", "listed twice"},
		{"service account names", npHead + "  ingress:\n  - action: Allow\n    source:\n      serviceAccounts: {names: [api, Bad_Name]}\n", "spec.ingress[0].source.serviceAccounts.names[1]", "not a valid service account name"},
		{"rule annotation key", npHead + "  ingress:\n  - action: Allow\n    metadata:\n      annotations: {\"bad key!\": x}\n", "spec.ingress[0].metadata.annotations", "annotation key"},
	})
}

func TestPolicyValidation_SelectorsUseTheParser(t *testing.T) {
	if _, err := selector.Parse("a == "); err == nil {
		t.Skip("internal/selector is still the placeholder that accepts everything")
	}
	runPolicyCases(t, []policyCase{
		{"bad policy selector", npHead + "  selector: \"app == \"\n", "spec.selector", "invalid selector"},
		{"bad rule selector", npHead + "  ingress:\n  - action: Allow\n    source:\n      selector: \"has(\"\n", "spec.ingress[0].source.selector", "invalid selector"},
		{"bad sa selector", gnpHead + "  serviceAccountSelector: \"role ==\"\n", "spec.serviceAccountSelector", "invalid selector"},
	})
}

func TestPolicyValidation_GlobalFlagsTypesAndHints(t *testing.T) {
	runPolicyCases(t, []policyCase{
		{"preDNAT ingress", gnpHead + "  preDNAT: true\n  applyOnForward: true\n  ingress:\n  - action: Deny\n", "", ""},
		{"doNotTrack with both", gnpHead + "  doNotTrack: true\n  applyOnForward: true\n  ingress:\n  - action: Allow\n  egress:\n  - action: Allow\n", "", ""},
		{"preDNAT without applyOnForward", gnpHead + "  preDNAT: true\n  ingress:\n  - action: Deny\n", "spec.applyOnForward", "must be true when doNotTrack or preDNAT is set"},
		{"doNotTrack without applyOnForward", gnpHead + "  doNotTrack: true\n", "spec.applyOnForward", "set spec.applyOnForward: true"},
		{"preDNAT with egress", gnpHead + "  preDNAT: true\n  applyOnForward: true\n  egress:\n  - action: Deny\n", "spec.egress", "cannot have egress rules"},
		{"preDNAT with Egress type", gnpHead + "  preDNAT: true\n  applyOnForward: true\n  types: [Ingress, Egress]\n", "spec.types", "cannot have type Egress"},
		{"preDNAT and doNotTrack", gnpHead + "  preDNAT: true\n  doNotTrack: true\n  applyOnForward: true\n", "spec.preDNAT", "cannot both be true"},
		{"duplicate type", npHead + "  types: [Ingress, Ingress]\n", "spec.types[1]", "listed twice"},
		{"lower-case type", npHead + "  types: [egress]\n", "spec.types[0]", `write "Egress"`},
		{"unknown hint", npHead + "  performanceHints: [Fast]\n", "spec.performanceHints[0]", "AssumeNeededOnEveryNode"},
		{"global() policy selector", gnpHead + "  selector: global()\n", "spec.selector", "only valid as a rule's namespaceSelector"},
	})
}

func TestPolicyValidation_TieredNames(t *testing.T) {
	named := func(kind, name, tier string) string {
		d := "apiVersion: projectcalico.org/v3\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n"
		if kind == "NetworkPolicy" || kind == "StagedNetworkPolicy" {
			d += "  namespace: ns1\n"
		}
		d += "spec:\n  selector: all()\n"
		if tier != "" {
			d += "  tier: " + tier + "\n"
		}
		return d
	}
	runPolicyCases(t, []policyCase{
		{"default tier plain", named("NetworkPolicy", "allow-web", ""), "", ""},
		{"default tier prefixed", named("NetworkPolicy", "default.allow-web", "default"), "", ""},
		{"tiered prefixed", named("GlobalNetworkPolicy", "security.block", "security"), "", ""},
		{"knp prefix keeps its tier", named("NetworkPolicy", "knp.default.allow.web", ""), "", ""},
		{"tier without prefix", named("GlobalNetworkPolicy", "block", "security"), "metadata.name", `rename it "security.block"`},
		{"wrong prefix", named("NetworkPolicy", "ops.block", "security"), "metadata.name", `has tier prefix "ops" but spec.tier is "security"`},
		{"dotted in default tier", named("StagedGlobalNetworkPolicy", "ops.block", ""), "metadata.name", `set spec.tier: ops`},
		{"two dots", named("GlobalNetworkPolicy", "a.b.c", "a"), "metadata.name", "is not a valid policy name"},
		{"upper case", named("NetworkPolicy", "AllowWeb", ""), "metadata.name", "is not a valid policy name"},
		{"bad tier name", named("NetworkPolicy", "x.y", "x.z"), "spec.tier", "no '.'"},
	})
}

func TestStagedPolicyValidation_ActionAndDelete(t *testing.T) {
	const sgnp = "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata:\n  name: p\nspec:\n"
	const snp = "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata:\n  name: p\n  namespace: ns1\nspec:\n"
	runPolicyCases(t, []policyCase{
		{"learn", snp + "  stagedAction: Learn\n  ingress:\n  - action: Allow\n", "", ""},
		{"delete only tier", sgnp + "  stagedAction: Delete\n  tier: default\n", "", ""},
		{"delete with rules", sgnp + "  stagedAction: Delete\n  selector: all()\n  ingress:\n  - action: Allow\n", "spec", "ingress, selector are set"},
		{"bad action", snp + "  stagedAction: Apply\n", "spec.stagedAction", "use Set (default), Delete, Learn or Ignore"},
		{"staged rules are checked", sgnp + "  ingress:\n  - action: Allow\n    destination:\n      ports: [80]\n", "spec.ingress[0].destination.ports", "ports need protocol"},
	})
}
