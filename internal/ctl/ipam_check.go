package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// checkReport is the file `ipam check -o` writes and `ipam release
// --from-report` reads. Its fields are Calico's report, so tools written
// for calicoctl's report keep working; Problems adds Tricolor's full
// check result (every inconsistency class ipam.Check knows).
type checkReport struct {
	Version             string                         `json:"version"`
	ClusterGUID         string                         `json:"clusterGUID"`
	DatastoreLocked     bool                           `json:"datastoreLocked"`
	ClusterInfoRevision string                         `json:"clusterInformationRevision"`
	ClusterType         string                         `json:"clusterType"`
	Allocations         map[string][]*reportAllocation `json:"allocations"`
	LeakedHandles       []reportHandle                 `json:"leakedHandles,omitempty"`
	Problems            *ipam.Report                   `json:"problems,omitempty"`
}

// reportAllocation is one allocation in the report (Calico's fields).
type reportAllocation struct {
	IP                string   `json:"ip"`
	Handle            string   `json:"handle,omitempty"`
	SequenceNumber    *uint64  `json:"sequenceNumber,omitempty"`
	Pod               string   `json:"pod,omitempty"`
	Namespace         string   `json:"namespace,omitempty"`
	Node              string   `json:"node,omitempty"`
	Type              string   `json:"type,omitempty"`
	CreationTimestamp string   `json:"creationTimestamp,omitempty"`
	InUse             bool     `json:"inUse"`
	Borrowed          bool     `json:"borrowed,omitempty"`
	Owners            []string `json:"owners"`
}

// reportHandle is a handle that counts addresses no block holds for it.
// Calico encodes these fields without JSON tags, hence the capitals.
type reportHandle struct {
	ID       string  `json:"ID"`
	UID      *string `json:"UID"`
	Revision string  `json:"Revision"`
}

// ipamCheckCommand builds `ipam check [-o <FILE>] [--show-all-ips]
// [--show-problem-ips]`.
func (a *app) ipamCheckCommand() *cobra.Command {
	var out, kubeconfig string
	var all, problems bool
	cmd := &cobra.Command{
		Use:   "check [-o <FILE>] [--show-all-ips] [--show-problem-ips]",
		Short: "Check the integrity of the IPAM data against workloads and nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kubeconfig != "" {
				return fmt.Errorf("ipam check --kubeconfig: checking owners against a Kubernetes API server is not supported yet; " +
					"run without --kubeconfig to check against the WorkloadEndpoints and Nodes in the datastore")
			}
			return a.withIPAM(cmd.Context(), func(c *client.Client, m *ipam.IPAM) error {
				ck := &checker{w: a.opts.Stdout, c: c, m: m, showAll: all, showProblems: all || problems}
				r, err := ck.run(cmd.Context())
				if err != nil {
					return err
				}
				if out == "" {
					return nil
				}
				b, err := json.MarshalIndent(r, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
					return fmt.Errorf("write the IPAM report: %w", err)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "path to output report file")
	f.BoolVar(&all, "show-all-ips", false, "print all IPs that are checked")
	f.BoolVar(&problems, "show-problem-ips", false, "print all IPs that are leaked or not allocated properly")
	f.StringVar(&kubeconfig, "kubeconfig", "", "path to a kubeconfig file (not supported yet: owners are checked in the datastore)")
	return cmd
}

// checker runs one `ipam check`: ipam.Check for the IPAM objects' own
// consistency, then the owner test (ipam_owner.go) for every allocation,
// printing calicoctl's progress lines as it goes.
type checker struct {
	w                     io.Writer
	c                     *client.Client
	m                     *ipam.IPAM
	showAll, showProblems bool
}

func (k *checker) printf(format string, args ...any) { fmt.Fprintf(k.w, format, args...) }

func (k *checker) run(ctx context.Context) (*checkReport, error) {
	k.printf("Checking IPAM for inconsistencies...\n\n")
	rep := &checkReport{Version: Version, Allocations: map[string][]*reportAllocation{}}
	if err := k.clusterInfo(ctx, rep); err != nil {
		return nil, err
	}

	// IPAM objects first, owners after: an address being assigned right
	// now is in the blocks before its workload endpoint is written, so this
	// order can only make a new workload look alive, never leaked.
	k.printf("Loading all IPAM blocks...\n")
	var allocs []ipam.Allocation
	r, err := k.m.Check(ctx, ipam.CheckOptions{OwnerExists: func(_ context.Context, a ipam.Allocation) (bool, error) {
		allocs = append(allocs, a)
		return true, nil // decided below, once the owners are read
	}})
	if err != nil {
		return nil, err
	}
	usage, err := k.m.Usage(ctx)
	if err != nil {
		return nil, err
	}
	k.printf("Found %d IPAM blocks.\n", r.Blocks)
	for _, b := range usage.Blocks {
		aff := "<none>"
		if b.Node != "" {
			aff = "host:" + b.Node
		}
		k.printf(" IPAM block %s affinity=%s:\n", b.CIDR, aff)
	}
	slices.SortFunc(allocs, func(a, b ipam.Allocation) int { return a.Addr.Compare(b.Addr) })
	for _, a := range allocs {
		if k.showAll {
			k.printf("  %s allocated; attrs %s\n", a.Addr, attrString(a))
		}
	}
	k.printf("IPAM blocks record %d allocations.\n\n", len(allocs))

	active, err := k.activePools(ctx)
	if err != nil {
		return nil, err
	}
	k.printf("Loading all nodes.\n")
	own, err := loadOwners(ctx, k.c)
	if err != nil {
		return nil, err
	}
	k.printf("Found %d node tunnel IPs.\n\n", own.nodeIPs)
	k.printf("Loading all workload endpoints.\n")
	k.printf("Found %d workload IPs.\n", own.wepIPs)
	k.printf("Workloads and nodes are using %d IPs.\n\n", len(own.byIP))
	if k.showAll {
		for _, ip := range slices.SortedFunc(maps.Keys(own.byIP), netip.Addr.Compare) {
			for _, o := range own.byIP[ip] {
				k.printf("  %s belongs to %s\n", ip, o)
			}
		}
	}

	k.printf("Loading all handles\n")
	k.topNodes(allocs)

	// Allocations against owners.
	k.printf("Scanning for IPs that are allocated but not actually in use...\n")
	r.LeakedIPs = nil
	allocated := map[netip.Addr]bool{}
	unknownOwner := 0
	for _, a := range allocs {
		allocated[a.Addr] = true
		found, checkable := own.ownerOf(a)
		ra := reportAllocationOf(a)
		ra.Owners = found
		if ra.Owners == nil {
			ra.Owners = []string{}
		}
		ra.InUse = len(found) > 0 || !checkable
		if !checkable && len(found) == 0 {
			unknownOwner++
		}
		if !ra.InUse {
			r.LeakedIPs = append(r.LeakedIPs, a)
			if k.showProblems {
				k.printf("  %s leaked; attrs %s\n", a.Addr, attrString(a))
			}
		}
		rep.Allocations[a.Addr.String()] = append(rep.Allocations[a.Addr.String()], ra)
	}
	k.printf("Found %d IPs that are allocated in IPAM but not actually in use.\n", len(r.LeakedIPs))
	if unknownOwner > 0 {
		k.printf("Found %d allocations whose handle names no checkable owner (not a pod or tunnel handle); assumed in use.\n", unknownOwner)
	}

	k.printf("Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n")
	var notInPool, notAllocated int
	for _, ip := range slices.SortedFunc(maps.Keys(own.byIP), netip.Addr.Compare) {
		owners := own.byIP[ip]
		if k.showProblems && len(owners) > 1 {
			k.printf("  %s has multiple owners.\n", ip)
		}
		if allocated[ip] {
			continue
		}
		inPool := slices.ContainsFunc(active, func(p netip.Prefix) bool { return p.Contains(ip) })
		if !inPool {
			notInPool++
		} else {
			notAllocated++
		}
		if k.showProblems {
			for _, o := range owners {
				if inPool {
					k.printf("  %s in use by %s and in active IPAM pool but has no IPAM allocation.\n", ip, o)
				} else {
					k.printf("  %s in use by %s is not in any active IP pool.\n", ip, o)
				}
			}
		}
	}
	k.printf("Found %d in-use IPs that are not in active IP pools.\n", notInPool)
	k.printf("Found %d in-use IPs that are in active IP pools but have no corresponding IPAM allocation.\n\n", notAllocated)

	// The IPAM objects against each other (ipam.Check).
	k.printf("Scanning for IPAM handles with no matching IPs...\n")
	rep.LeakedHandles = leakedHandles(r, allocs)
	over := map[string]bool{}
	for _, p := range r.HandlesWithoutAllocations {
		over[p.Handle] = true
		if k.showProblems {
			k.printf("  %s counts %d IPs in block %s but the block holds %d for it.\n", p.Handle, p.Counted, p.Block, p.Actual)
		}
	}
	k.printf("Found %d handles with no matching IPs (and %d handles with matches).\n", len(over), r.Handles-len(over))
	k.printf("Scanning for IPs with missing handle...\n")
	missing := map[string]bool{}
	for _, a := range r.AllocationsWithoutHandles {
		missing[a.Handle] = true
		if k.showProblems {
			k.printf("  %s is in use in a block but its handle %q does not count it.\n", a.Addr, a.Handle)
		}
	}
	k.printf("Found %d handles mentioned in blocks with no matching handle resource.\n", len(missing))
	k.printf("Scanning for blocks affine to nodes that do not exist...\n")
	for _, b := range r.BlocksOfMissingNodes {
		if k.showProblems {
			k.printf("  block %s is affine to missing node %q (%d IPs in use).\n", b.Block, b.Node, b.InUse)
		}
	}
	k.printf("Found %d blocks affine to missing nodes.\n", len(r.BlocksOfMissingNodes))
	k.printf("Scanning block affinities...\n")
	for _, p := range slices.Concat(r.DuplicateAffinities, r.StaleAffinities) {
		if k.showProblems {
			k.printf("  affinity %s (node %q, block %s, %s): %s.\n", p.Name, p.Node, p.Block, p.State, p.Detail)
		}
	}
	k.printf("Found %d duplicate and %d stale block affinities.\n", len(r.DuplicateAffinities), len(r.StaleAffinities))
	k.printf("Found %d empty blocks with no affinity.\n", len(r.EmptyUnownedBlocks))

	n := r.Problems() + notInPool + notAllocated
	k.printf("Check complete; found %d problems.\n", n)
	rep.Problems = r
	return rep, nil
}

// clusterInfo copies ClusterInformation "default" into the report's
// header (empty when calico-node has not written it yet).
func (k *checker) clusterInfo(ctx context.Context, rep *checkReport) error {
	ci, err := k.c.Get(ctx, v3.KindClusterInformation, "", v3.ClusterInformationName)
	if client.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	info := ci.(*v3.ClusterInformation)
	rep.ClusterGUID, rep.ClusterType = info.Spec.ClusterGUID, info.Spec.ClusterType
	rep.ClusterInfoRevision = info.ResourceVersion
	rep.DatastoreLocked = info.Spec.DatastoreReady != nil && !*info.Spec.DatastoreReady
	return nil
}

// activePools lists and prints the enabled pools.
func (k *checker) activePools(ctx context.Context) ([]netip.Prefix, error) {
	k.printf("Loading all IPAM pools...\n")
	pools, _, err := k.c.List(ctx, v3.KindIPPool, "")
	if err != nil {
		return nil, fmt.Errorf("failed to load IP pools: %w", err)
	}
	var out []netip.Prefix
	for _, r := range pools {
		p := r.(*v3.IPPool)
		if p.Spec.Disabled {
			continue
		}
		cidr, err := netip.ParsePrefix(p.Spec.CIDR)
		if err != nil {
			return nil, fmt.Errorf("ippool %q: spec.cidr %q: %v", p.Name, p.Spec.CIDR, err)
		}
		k.printf("  %s\n", p.Spec.CIDR)
		out = append(out, cidr.Masked())
	}
	k.printf("Found %d active IP pools.\n\n", len(out))
	return out, nil
}

// topNodes prints the nodes holding the most allocations.
func (k *checker) topNodes(allocs []ipam.Allocation) {
	const top = 20
	k.printf("Looking for top (up to %d) nodes by allocations...\n", top)
	per := map[string]int{}
	for _, a := range allocs {
		per[nodeOf(a)]++
	}
	nodes := slices.Collect(maps.Keys(per))
	slices.SortFunc(nodes, func(a, b string) int {
		if per[a] != per[b] {
			return per[b] - per[a]
		}
		return strings.Compare(a, b)
	})
	for i, n := range nodes {
		if i == top {
			break
		}
		k.printf("  %s has %d allocations\n", n, per[n])
	}
	if len(nodes) > 0 {
		k.printf("Node with most allocations has %d; median is %d\n", per[nodes[0]], per[nodes[len(nodes)/2]])
	}
	k.printf("\n")
}

// leakedHandles lists the handles that count addresses while no block
// holds any address for them: deleting one at the revision the check saw
// cannot lose an allocation, since an allocation writes its handle first.
// Handles that hold some addresses but count too many are left to GC,
// which recounts them.
func leakedHandles(r *ipam.Report, allocs []ipam.Allocation) []reportHandle {
	live := map[string]bool{}
	for _, a := range allocs {
		live[a.Handle] = true
	}
	rev := map[string]string{}
	for _, p := range r.HandlesWithoutAllocations {
		if !live[p.Handle] {
			rev[p.Handle] = p.Revision
		}
	}
	var out []reportHandle
	for _, id := range slices.Sorted(maps.Keys(rev)) {
		out = append(out, reportHandle{ID: id, Revision: rev[id]})
	}
	return out
}

// reportAllocationOf fills Calico's allocation fields.
func reportAllocationOf(a ipam.Allocation) *reportAllocation {
	s := a.SequenceNumber
	node := nodeOf(a)
	return &reportAllocation{
		IP: a.Addr.String(), Handle: a.Handle, SequenceNumber: &s,
		Pod: a.Attrs[ipam.AttrPod], Namespace: a.Attrs[ipam.AttrNamespace], Node: node,
		Type: a.Attrs[ipam.AttrType], CreationTimestamp: a.Attrs[ipam.AttrTimestamp],
		Borrowed: node != a.BlockAffinity,
	}
}

// nodeOf is the node an allocation is for: its node attribute, else the
// block's owner.
func nodeOf(a ipam.Allocation) string {
	if n := a.Attrs[ipam.AttrNode]; n != "" {
		return n
	}
	return a.BlockAffinity
}

// attrString formats an allocation's attributes as calicoctl does.
func attrString(a ipam.Allocation) string {
	h := a.Handle
	if h == "" {
		h = "<none>"
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(a.Attrs)) {
		kv = append(kv, k+"="+a.Attrs[k])
	}
	return fmt.Sprintf("Main:%s Extra:%s", h, strings.Join(kv, ","))
}
