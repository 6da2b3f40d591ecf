package main

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamCluster is a cluster plus in-process access to the same etcd: the
// tests allocate through the ipam package as calico-ipam would, then look
// at the result with the calicoctl binary.
type ipamCluster struct {
	*cluster
	c *client.Client
}

func newIPAMCluster(t *testing.T) *ipamCluster {
	t.Helper()
	cl := newCluster(t)
	be, err := etcd.New(etcd.Config{Endpoints: []string{cl.endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(be)
	t.Cleanup(func() { c.Close() })
	return &ipamCluster{cluster: cl, c: c}
}

// ipam returns an IPAM over the cluster's etcd; fault, when set, simulates
// the client dying at that point.
func (k *ipamCluster) ipam(fault ipam.FaultPoint) *ipam.IPAM {
	opts := ipam.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if fault != "" {
		opts.Fault = func(p ipam.FaultPoint) error {
			if p == fault {
				return ipam.ErrKilled
			}
			return nil
		}
	}
	return ipam.New(k.c.Backend(), opts)
}

func (k *ipamCluster) create(res v3.Resource) {
	k.t.Helper()
	if _, err := k.c.Create(context.Background(), res); err != nil {
		k.t.Fatalf("create %s: %v", res.GetName(), err)
	}
}

// pod allocates one address for ns/pod on node and, when alive, writes the
// pod's WorkloadEndpoint as the CNI plugin would.
func (k *ipamCluster) pod(node, ns, pod string, alive bool) netip.Addr {
	k.t.Helper()
	v4, _, err := k.ipam("").AutoAssign(context.Background(), ipam.AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network." + pod + "-cid",
		Hostname: node, Attrs: map[string]string{ipam.AttrNamespace: ns, ipam.AttrPod: pod}})
	if err != nil {
		k.t.Fatalf("assign for %s/%s: %v", ns, pod, err)
	}
	ip := v4.IPs[0].Addr
	if alive {
		w := v3.NewWorkloadEndpoint()
		w.Namespace = ns
		w.Spec = v3.WorkloadEndpointSpec{Orchestrator: "k8s", Node: node, Pod: pod, Endpoint: "eth0",
			InterfaceName: "cali0123456789a", IPNetworks: []string{ip.String() + "/32"}}
		w.Name, _ = w.Spec.ExpectedName()
		k.create(w)
	}
	return ip
}

func notInUseIPs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Allocations map[string][]struct {
			InUse bool `json:"inUse"`
		} `json:"allocations"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
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

func TestE2E_IPAMShowCheckReleaseConfigure(t *testing.T) {
	k := newIPAMCluster(t)
	ctx := context.Background()
	k.ok("apply", "-f", k.file("pool.yaml", pool("pool-a", "10.244.0.0/24")))
	for _, n := range []string{"node-1", "node-2"} {
		node := v3.NewNode()
		node.Name = n
		k.create(node)
	}
	web := k.pod("node-1", "prod", "web-0", true)
	db := k.pod("node-2", "prod", "db-0", true)
	if _, _, err := k.ipam("").AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, HandleID: ipam.TunnelHandle("vxlan", "node-1"), Hostname: "node-1", IntendedUse: ipam.UseTunnel}); err != nil {
		t.Fatal(err)
	}
	// A CNI plugin killed after writing the allocation, before telling the
	// runtime: the pod never starts, so no WorkloadEndpoint is written.
	_, _, err := k.ipam(ipam.FaultAfterBlockWrite).AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, HandleID: "k8s-pod-network.dead-cid",
		Hostname: "node-1", Attrs: map[string]string{ipam.AttrNamespace: "prod", ipam.AttrPod: "dead-0"}})
	if !errors.Is(err, ipam.ErrKilled) {
		t.Fatalf("injected fault: %v", err)
	}
	dead, err := k.ipam("").IPsByHandle(ctx, "k8s-pod-network.dead-cid")
	if err != nil || len(dead) != 1 {
		t.Fatalf("the killed client's allocation: %v %v", dead, err)
	}

	mustContain(t, "ipam show", k.ok("ipam", "show"),
		"| GROUPING |", "| IPS TOTAL | IPS IN USE |", "| IP Pool  | 10.244.0.0/24 |       256 | 4 (2%)     | 252 (98%) |")
	blocks := k.ok("ipam", "show", "--show-blocks")
	if n := strings.Count(blocks, "| Block    |"); n != 2 {
		t.Errorf("show-blocks: %d block rows, want one per node:\n%s", n, blocks)
	}
	mustContain(t, "ipam show --ip", k.ok("ipam", "show", "--ip="+web.String()),
		"IP "+web.String()+" is in use\n", "Handle ID: k8s-pod-network.web-0-cid\n", "  pod: web-0\n", "  node: node-1\n")

	report := filepath.Join(k.dir, "report.json")
	out := k.ok("ipam", "check", "-o", report)
	mustContain(t, "ipam check", out, "Checking IPAM for inconsistencies...", "Found 2 IPAM blocks.",
		"IPAM blocks record 4 allocations.", "Found 1 IPs that are allocated in IPAM but not actually in use.",
		"Check complete; found 1 problems.")
	if got := notInUseIPs(t, report); !slices.Equal(got, []string{dead[0].String()}) {
		t.Errorf("report lists %v as leaked, want exactly the killed client's %s", got, dead[0])
	}
	mustContain(t, "ipam release --from-report", k.ok("ipam", "release", "--from-report="+report, "--force"),
		"Releasing 1 old IPs...", "Released 1 IPs successfully")
	mustContain(t, "ipam check after release", k.ok("ipam", "check"), "Check complete; found 0 problems.")

	mustContain(t, "ipam release --ip", k.ok("ipam", "release", "--ip="+db.String()), "Successfully released IP address "+db.String())
	if e := k.fails("ipam", "release", "--ip="+db.String()); !strings.Contains(e, "IP address "+db.String()+" is not assigned") {
		t.Errorf("second release: %q", e)
	}
	if out := k.ok("ipam", "show", "--ip", db.String()); out != db.String()+" is not assigned\n" {
		t.Errorf("show --ip after release: %q", out)
	}

	mustContain(t, "ipam configure", k.ok("ipam", "configure", "--strictaffinity=true", "--max-blocks-per-host=3"),
		"Successfully set StrictAffinity to: true", "Successfully set MaxBlocksPerHost to: 3")
	mustContain(t, "show-configuration", k.ok("ipam", "show", "--show-configuration"),
		"| StrictAffinity     | true  |", "| AutoAllocateBlocks | true  |", "| MaxBlocksPerHost   |     3 |")
	if cfg, err := k.ipam("").GetIPAMConfig(ctx); err != nil || !cfg.StrictAffinity || cfg.MaxBlocksPerHost != 3 {
		t.Errorf("IPAM reads the configuration calicoctl wrote as %+v, %v", cfg, err)
	}
	mustContain(t, "get ipamconfiguration", k.ok("get", "ipamconfiguration", "default", "-o", "yaml"), "strictAffinity: true", "maxBlocksPerHost: 3")
}

func TestE2E_IPAMPoolDeleteRefusedAndSplit(t *testing.T) {
	k := newIPAMCluster(t)
	k.ok("apply", "-f", k.file("pool.yaml", pool("pool-a", "10.244.0.0/24")))
	web := k.pod("node-1", "prod", "web-0", false)
	block := netip.PrefixFrom(web, 26).Masked().String()

	before := k.dump()
	e := k.fails("delete", "ippool", "pool-a")
	mustContain(t, "delete ippool with blocks", e, `ippool "pool-a" still has 1 IPAM block(s): `+block, "release their addresses")
	if after := k.dump(); after != before {
		t.Errorf("a refused delete changed etcd:\nbefore\n%s\nafter\n%s", before, after)
	}

	if e := k.fails("ipam", "split", "--cidr=10.244.0.0/24", "2"); !strings.Contains(e, `ippool "pool-a" is enabled and the data store is not locked`) {
		t.Errorf("split of an enabled pool: %q", e)
	}
	if after := k.dump(); after != before {
		t.Errorf("a refused split changed etcd")
	}
	k.ok("patch", "ippool", "pool-a", "-p", `{"spec":{"disabled":true}}`)
	mustContain(t, "ipam split", k.ok("ipam", "split", "--name=pool-a", "4"),
		"IP Pool pool-a was successfully split into 4 smaller pools.",
		"Created split-pool-a-0 with CIDR 10.244.0.0/26.", "Created split-pool-a-3 with CIDR 10.244.0.192/26.")
	pools := k.ok("get", "ippools")
	if strings.Contains(pools, "pool-a ") || strings.Count(pools, "split-pool-a-") != 4 {
		t.Errorf("pools after split:\n%s", pools)
	}
	mustContain(t, "show --ip after split", k.ok("ipam", "show", "--ip="+web.String()), "IP "+web.String()+" is in use")
	// The child holding the block is guarded like any pool.
	child := "split-pool-a-" + string("0123"[web.As4()[3]/64])
	mustContain(t, "delete split child with the block", k.fails("delete", "ippool", child), `ippool "`+child+`" still has 1 IPAM block(s): `+block)
}
