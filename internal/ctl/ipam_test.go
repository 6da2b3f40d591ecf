package ctl

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamHarness is the ctl harness plus an IPAM over the same memory
// backend, for making allocations the ipam commands then report on.
type ipamHarness struct {
	*harness
	m *ipam.IPAM
}

func newIPAMHarness(t *testing.T) *ipamHarness {
	h := newHarness(t)
	return &ipamHarness{harness: h, m: ipam.New(h.c.Backend(), ipam.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
}

func (h *ipamHarness) create(res v3.Resource) v3.Resource {
	h.t.Helper()
	out, err := h.c.Create(context.Background(), res)
	if err != nil {
		h.t.Fatalf("create %s: %v", res.GetName(), err)
	}
	return out
}

func (h *ipamHarness) pool(name, cidr string, disabled bool) {
	p := v3.NewIPPool()
	p.Name, p.Spec.CIDR, p.Spec.Disabled = name, cidr, disabled
	h.create(p)
}

func (h *ipamHarness) node(name string) {
	n := v3.NewNode()
	n.Name = name
	h.create(n)
}

// wep creates the WorkloadEndpoint of pod ns/pod on node holding ip.
func (h *ipamHarness) wep(ns, pod, node string, ip netip.Addr) {
	w := v3.NewWorkloadEndpoint()
	w.Namespace = ns
	w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: node, Pod: pod, Endpoint: "eth0",
		InterfaceName: "cali0123456789a", IPNetworks: []string{netip.PrefixFrom(ip, ip.BitLen()).String()}}
	name, err := w.Spec.ExpectedName()
	if err != nil {
		h.t.Fatal(err)
	}
	w.Name = name
	h.create(w)
}

// assign allocates n addresses for a pod (ns/pod attributes) or, with an
// empty pod, under handle alone.
func (h *ipamHarness) assign(node, handle, ns, pod string, n int) []netip.Addr {
	h.t.Helper()
	attrs := map[string]string{}
	if pod != "" {
		attrs[ipam.AttrNamespace], attrs[ipam.AttrPod] = ns, pod
	}
	v4, _, err := h.m.AutoAssign(context.Background(), ipam.AutoAssignArgs{Num4: n, HandleID: handle, Hostname: node, Attrs: attrs})
	if err != nil {
		h.t.Fatalf("assign %d for %s on %s: %v", n, handle, node, err)
	}
	return v4.Addrs()
}

func (h *ipamHarness) ok(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.run("", args...)
	if code != 0 {
		h.t.Fatalf("calicoctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (h *ipamHarness) fails(args ...string) string {
	h.t.Helper()
	out, errOut, code := h.run("", args...)
	if code != 1 {
		h.t.Fatalf("calicoctl %s: exit %d, want 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return errOut
}

// onePoolTwoNodes: a /26 pool is a single block; node-1 claims it with
// three addresses, node-2 finds no block left and borrows one.
func onePoolTwoNodes(t *testing.T) *ipamHarness {
	h := newIPAMHarness(t)
	h.pool("pool-a", "10.244.0.0/26", false)
	h.assign("node-1", "k8s-pod-network.c1", "default", "web-0", 3)
	h.assign("node-2", "k8s-pod-network.c2", "default", "db-0", 1)
	return h
}

func TestIPAMShow_PrintsCalicoctlUsageTables(t *testing.T) {
	h := onePoolTwoNodes(t)
	h.pool("pool-b", "10.96.0.0/20", true)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"ipam", "show"}, `+----------+---------------+-----------+------------+-------------+
| GROUPING |     CIDR      | IPS TOTAL | IPS IN USE |  IPS FREE   |
+----------+---------------+-----------+------------+-------------+
| IP Pool  | 10.244.0.0/26 |        64 | 4 (6%)     | 60 (94%)    |
| IP Pool  | 10.96.0.0/20  |      4096 | 0 (0%)     | 4096 (100%) |
+----------+---------------+-----------+------------+-------------+
`},
		{[]string{"ipam", "show", "--show-blocks"}, `+----------+---------------+-----------+------------+-------------+
| GROUPING |     CIDR      | IPS TOTAL | IPS IN USE |  IPS FREE   |
+----------+---------------+-----------+------------+-------------+
| IP Pool  | 10.244.0.0/26 |        64 | 4 (6%)     | 60 (94%)    |
| Block    | 10.244.0.0/26 |        64 | 4 (6%)     | 60 (94%)    |
| IP Pool  | 10.96.0.0/20  |      4096 | 0 (0%)     | 4096 (100%) |
+----------+---------------+-----------+------------+-------------+
`},
		{[]string{"ipam", "show", "--show-borrowed"}, `+------------+----------------+---------------+-------------+------+--------------+
|     IP     | BORROWING-NODE |     BLOCK     | BLOCK OWNER | TYPE | ALLOCATED-TO |
+------------+----------------+---------------+-------------+------+--------------+
| 10.244.0.3 | node-2         | 10.244.0.0/26 | node-1      | pod  | default/db-0 |
+------------+----------------+---------------+-------------+------+--------------+
`},
		{[]string{"ipam", "show", "--show-configuration"}, `+--------------------+-------+
|      PROPERTY      | VALUE |
+--------------------+-------+
| StrictAffinity     | false |
| AutoAllocateBlocks | true  |
| MaxBlocksPerHost   |     0 |
+--------------------+-------+
`},
	}
	for _, tc := range cases {
		if got := h.ok(tc.args...); got != tc.want {
			t.Errorf("calicoctl %s:\n%s\nwant\n%s", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}

func TestIPAMShow_IPInUseNotAssignedAndInvalid(t *testing.T) {
	h := onePoolTwoNodes(t)
	out := h.ok("ipam", "show", "--ip=10.244.0.3")
	for _, want := range []string{"IP 10.244.0.3 is in use\n", "Handle ID: k8s-pod-network.c2\n", "Attributes:\n", "  namespace: default\n", "  node: node-2\n", "  pod: db-0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("show --ip in use: missing %q in\n%s", want, out)
		}
	}
	if out := h.ok("ipam", "show", "--ip", "10.244.0.9"); out != "10.244.0.9 is not assigned\n" {
		t.Errorf("show --ip free address: %q", out)
	}
	if out := h.ok("ipam", "show", "--ip", "192.0.2.1"); out != "192.0.2.1 is not assigned\n" {
		t.Errorf("show --ip outside every pool: %q", out)
	}
	if e := h.fails("ipam", "show", "--ip", "10.244.0"); !strings.Contains(e, `Invalid IP address specified: "10.244.0"`) {
		t.Errorf("bad --ip: %q", e)
	}
	if e := h.fails("ipam", "show", "--ip", "10.244.0.3", "--show-blocks"); !strings.Contains(e, "at most one of") {
		t.Errorf("two modes at once: %q", e)
	}
}

func TestIPAMConfigure_ChangesOnlyGivenSettings(t *testing.T) {
	h := newIPAMHarness(t)
	if out := h.ok("ipam", "configure", "--strictaffinity=true"); out != "Successfully set StrictAffinity to: true\n" {
		t.Errorf("configure strictaffinity: %q", out)
	}
	if out := h.ok("ipam", "configure", "--max-blocks-per-host=4"); out != "Successfully set MaxBlocksPerHost to: 4\n" {
		t.Errorf("configure max blocks: %q", out)
	}
	cfg, err := h.m.GetIPAMConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.StrictAffinity || cfg.MaxBlocksPerHost != 4 || !cfg.AutoAllocateBlocks {
		t.Errorf("stored config %+v; want strictAffinity kept true, 4 blocks, autoAllocateBlocks true", cfg)
	}
	// The stored resource is a valid IPAMConfiguration calicoctl can read.
	got, err := client.Get[*v3.IPAMConfiguration](context.Background(), h.c, "", "default")
	if err != nil || !got.Spec.StrictAffinity || got.Spec.MaxBlocksPerHost != 4 {
		t.Errorf("get ipamconfiguration default: %+v, %v", got, err)
	}
	if out := h.ok("ipam", "show", "--show-configuration"); !strings.Contains(out, "| StrictAffinity     | true  |") || !strings.Contains(out, "| MaxBlocksPerHost   |     4 |") {
		t.Errorf("show-configuration after configure:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ipam", "configure"}, "at least one configuration option must be specified"},
		{[]string{"ipam", "configure", "--strictaffinity=maybe"}, `invalid value "maybe" for --strictaffinity`},
		{[]string{"ipam", "configure", "--max-blocks-per-host=-1"}, `invalid value "-1" for --max-blocks-per-host`},
	} {
		if e := h.fails(tc.args...); !strings.Contains(e, tc.want) {
			t.Errorf("%v: %q, want %q", tc.args, e, tc.want)
		}
	}
}

// leakyCluster: node-1 runs web-0 (WorkloadEndpoint present) and has a
// VXLAN tunnel address; two allocations have lost their owners: the pod
// db-0 (no WorkloadEndpoint) and the tunnel address of a deleted node.
func leakyCluster(t *testing.T) (h *ipamHarness, live, leaked []netip.Addr) {
	h = newIPAMHarness(t)
	h.pool("pool-a", "10.244.0.0/24", false)
	h.node("node-1")
	web := h.assign("node-1", "k8s-pod-network.c1", "default", "web-0", 1)
	h.wep("default", "web-0", "node-1", web[0])
	tun := h.assign("node-1", ipam.TunnelHandle("vxlan", "node-1"), "", "", 1)
	other := h.assign("node-1", "my-own-handle", "", "", 1) // unknown owner kind: assumed in use
	db := h.assign("node-1", "k8s-pod-network.c2", "default", "db-0", 1)
	ghost := h.assign("node-1", ipam.TunnelHandle("ipip", "node-gone"), "", "", 1)
	return h, slices.Concat(web, tun, other), slices.Concat(db, ghost)
}

func readReport(t *testing.T, path string) checkReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r checkReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return r
}

func notInUse(r checkReport) []string {
	var out []string
	for ip, list := range r.Allocations {
		for _, a := range list {
			if !a.InUse {
				out = append(out, ip)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestIPAMCheck_ReportsExactlyTheLeakedAllocations(t *testing.T) {
	h, live, leaked := leakyCluster(t)
	report := filepath.Join(h.dir, "report.json")
	out := h.ok("ipam", "check", "-o", report, "--show-problem-ips")
	for _, want := range []string{
		"Checking IPAM for inconsistencies...\n\nLoading all IPAM blocks...\nFound 1 IPAM blocks.\n",
		"IPAM blocks record 5 allocations.",
		"Found 1 active IP pools.",
		"Found 1 workload IPs.",
		"  " + leaked[0].String() + " leaked; attrs Main:k8s-pod-network.c2 Extra:namespace=default,node=node-1,pod=db-0,",
		"  " + leaked[1].String() + " leaked; attrs Main:ipip-tunnel-addr-node-gone ",
		"Found 2 IPs that are allocated in IPAM but not actually in use.",
		"Found 1 allocations whose handle names no checkable owner",
		"Check complete; found 2 problems.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	r := readReport(t, report)
	want := []string{leaked[0].String(), leaked[1].String()}
	slices.Sort(want)
	if got := notInUse(r); !slices.Equal(got, want) {
		t.Errorf("report's not-in-use allocations %v, want exactly %v", got, want)
	}
	if len(r.Allocations) != len(live)+len(leaked) || r.Version != Version {
		t.Errorf("report has %d allocations (want %d), version %q", len(r.Allocations), len(live)+len(leaked), r.Version)
	}
	web := r.Allocations[live[0].String()][0]
	if !web.InUse || web.Pod != "web-0" || web.Namespace != "default" || web.SequenceNumber == nil || !slices.Contains(web.Owners, "Workload(default/node--1-k8s-web--0-eth0)") {
		t.Errorf("web-0's allocation in the report: %+v", web)
	}
	if r.Problems == nil || len(r.Problems.LeakedIPs) != 2 {
		t.Errorf("report problems: %+v", r.Problems)
	}
}

func TestIPAMRelease_FromReportFreesOnlyLeaksAndIsSafeToRepeat(t *testing.T) {
	h, live, leaked := leakyCluster(t)
	report := filepath.Join(h.dir, "report.json")
	h.ok("ipam", "check", "-o", report)

	if e := h.fails("ipam", "release", "--from-report", report); !strings.Contains(e, "data store is not locked") {
		t.Errorf("release without lock or --force: %q", e)
	}
	r := readReport(t, report)
	r.Version = "v0.0.1"
	stale := filepath.Join(h.dir, "other-version.json")
	b, _ := json.Marshal(r)
	os.WriteFile(stale, b, 0o644)
	if e := h.fails("ipam", "release", "--from-report", stale); !strings.Contains(e, "different version (v0.0.1)") {
		t.Errorf("release from another version's report: %q", e)
	}
	r.ClusterGUID = "someone-else"
	os.WriteFile(stale, mustJSON(t, r), 0o644)
	if e := h.fails("ipam", "release", "--from-report", stale, "--force"); !strings.Contains(e, "mismatched cluster GUID") {
		t.Errorf("release from another cluster's report with --force: %q", e)
	}

	out := h.ok("ipam", "release", "--from-report", report, "--force")
	for _, want := range []string{"WARNING: Data store is not locked. Ignoring due to --force option", "Releasing 2 old IPs...", "Released 2 IPs successfully", "You may now unlock the data store."} {
		if !strings.Contains(out, want) {
			t.Errorf("release output lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	for _, ip := range leaked {
		if _, err := h.m.GetAssignmentAttributes(ctx, ip); err == nil {
			t.Errorf("leaked %s still allocated", ip)
		}
	}
	for _, ip := range live {
		if _, err := h.m.GetAssignmentAttributes(ctx, ip); err != nil {
			t.Errorf("live %s was released: %v", ip, err)
		}
	}
	// The report is now stale: a new pod got one of the freed addresses.
	// Releasing again must not touch it (sequence numbers differ).
	if _, err := h.m.AssignIP(ctx, ipam.AssignIPArgs{IP: leaked[0], HandleID: "k8s-pod-network.c3", Hostname: "node-1",
		Attrs: map[string]string{ipam.AttrNamespace: "default", ipam.AttrPod: "new-0"}}); err != nil {
		t.Fatal(err)
	}
	h.wep("default", "new-0", "node-1", leaked[0])
	out = h.ok("ipam", "release", "--from-report", report, "--force")
	if !strings.Contains(out, "An error occurred while releasing some IPs") || !strings.Contains(out, "Try regenerating the IPAM report") {
		t.Errorf("second release from the old report:\n%s", out)
	}
	if a, err := h.m.GetAssignmentAttributes(ctx, leaked[0]); err != nil || a.Attrs[ipam.AttrPod] != "new-0" {
		t.Errorf("re-running an old report released %s, now held by new-0: %+v %v", leaked[0], a, err)
	}
	if out := h.ok("ipam", "check"); !strings.Contains(out, "Check complete; found 0 problems.") {
		t.Errorf("check after release:\n%s", out)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIPAMRelease_SingleIP(t *testing.T) {
	h := onePoolTwoNodes(t)
	if out := h.ok("ipam", "release", "--ip=10.244.0.3"); out != "Successfully released IP address 10.244.0.3\n" {
		t.Errorf("release: %q", out)
	}
	if e := h.fails("ipam", "release", "--ip=10.244.0.3"); !strings.Contains(e, "IP address 10.244.0.3 is not assigned") {
		t.Errorf("release twice: %q", e)
	}
	if e := h.fails("ipam", "release"); !strings.Contains(e, "needs --ip=<IP> or --from-report") {
		t.Errorf("release without arguments: %q", e)
	}
	if out := h.ok("ipam", "show"); !strings.Contains(out, "| 3 (5%)     |") {
		t.Errorf("usage after release:\n%s", out)
	}
}

func TestIPAMSplit_RequiresDisabledPoolAndKeepsBlocks(t *testing.T) {
	h := newIPAMHarness(t)
	h.pool("pool-a", "10.244.0.0/24", false)
	addrs := h.assign("node-1", "k8s-pod-network.c1", "default", "web-0", 2)

	if e := h.fails("ipam", "split", "--cidr=10.244.0.0/24", "2"); !strings.Contains(e, `ippool "pool-a" is enabled and the data store is not locked`) {
		t.Errorf("split of an enabled pool: %q", e)
	}
	p, err := client.Get[*v3.IPPool](context.Background(), h.c, "", "pool-a")
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Disabled = true
	if _, err := h.c.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ args, want string }{
		{"--name=pool-a 3", "not a valid power of 2: 3"},
		{"--name=pool-a 8", "smaller than the pool's /26 blocks"},
		{"--name=nope 2", "unable to find IP pool with name nope"},
		{"--cidr=10.9.0.0/16 2", "unable to find an IP pool with CIDR 10.9.0.0/16"},
		{"2", "no name or CIDR provided"},
		{"--name=pool-a two", "two is not a valid number"},
	} {
		if e := h.fails(append([]string{"ipam", "split"}, strings.Fields(tc.args)...)...); !strings.Contains(e, tc.want) {
			t.Errorf("split %s: %q, want %q", tc.args, e, tc.want)
		}
	}

	out := h.ok("ipam", "split", "--cidr=10.244.0.0/24", "2")
	want := "IP Pool pool-a was successfully split into 2 smaller pools.\nCreated split-pool-a-0 with CIDR 10.244.0.0/25.\nCreated split-pool-a-1 with CIDR 10.244.0.128/25.\n"
	if out != want {
		t.Errorf("split output:\n%s\nwant\n%s", out, want)
	}
	if got := h.ok("get", "ippools"); strings.Contains(got, "pool-a ") || !strings.Contains(got, "split-pool-a-0   10.244.0.0/25") {
		t.Errorf("pools after split:\n%s", got)
	}
	for _, ip := range addrs {
		if _, err := h.m.GetAssignmentAttributes(context.Background(), ip); err != nil {
			t.Errorf("%s lost by the split: %v", ip, err)
		}
	}
	// The children are enabled and serve the next allocation.
	h.assign("node-2", "k8s-pod-network.c2", "default", "db-0", 1)
	if out := h.ok("ipam", "show"); !strings.Contains(out, "| IP Pool  | 10.244.0.0/25   |") && !strings.Contains(out, "| IP Pool  | 10.244.0.0/25 |") {
		t.Errorf("usage after split:\n%s", out)
	}
}

func TestDeletePool_RefusedWhileBlocksExist(t *testing.T) {
	h := onePoolTwoNodes(t)
	e := h.fails("delete", "ippool", "pool-a")
	if !strings.Contains(e, `ippool "pool-a" still has 1 IPAM block(s): 10.244.0.0/26`) {
		t.Errorf("delete of a pool with blocks: %q", e)
	}
	if out := h.ok("get", "ippool", "pool-a"); !strings.Contains(out, "pool-a") {
		t.Errorf("pool gone after a refused delete:\n%s", out)
	}
}

func TestSplitPrefix_CutsIntoEqualAlignedParts(t *testing.T) {
	cases := []struct {
		cidr      string
		n, block  int
		want      []string
		wantError string
	}{
		{"10.0.0.0/16", 4, 26, []string{"10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18", "10.0.192.0/18"}, ""},
		{"fd00::/112", 2, 122, []string{"fd00::/113", "fd00::8000/113"}, ""},
		{"10.0.0.0/26", 2, 26, nil, "smaller than the pool's /26 blocks"},
		{"10.0.0.0/32", 2, 0, nil, "not large enough"},
		{"10.0.0.0/16", 1, 26, nil, "not a valid power of 2"},
		{"10.0.0.0/16", 6, 26, nil, "not a valid power of 2"},
	}
	for _, tc := range cases {
		got, err := splitPrefix(netip.MustParsePrefix(tc.cidr), tc.n, tc.block)
		if tc.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("split %s/%d: err %v, want %q", tc.cidr, tc.n, err, tc.wantError)
			}
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if err != nil || !slices.Equal(s, tc.want) {
			t.Errorf("split %s into %d: %v %v, want %v", tc.cidr, tc.n, s, err, tc.want)
		}
	}
}
