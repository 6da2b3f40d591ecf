package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// ipamReleaseCommand builds `ipam release [--ip=<IP>]
// [--from-report=<REPORT>]... [--force]`.
func (a *app) ipamReleaseCommand() *cobra.Command {
	var ip string
	var reports []string
	var force bool
	cmd := &cobra.Command{
		Use:   "release [--ip=<IP>] [--from-report=<REPORT>]... [--force]",
		Short: "Release a Calico assigned IP address, or every leaked address of an ipam check report",
		Long: `Release an IP address that was assigned to an endpoint, making it available
again. This does not remove the address from an endpoint still using it: use it
only to clean up after endpoints that were not removed cleanly.

With --from-report, release the addresses (and delete the handles) that
'calicoctl ipam check -o <FILE>' found leaked; with several reports, only
those leaked in all of them. Every release carries the allocation's handle and
sequence number, so an address reassigned since the report is never freed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ip == "" && len(reports) == 0 {
				return fmt.Errorf("ipam release needs --ip=<IP> or --from-report=<REPORT>")
			}
			var addr netip.Addr
			if ip != "" {
				var err error
				if addr, err = parseIPFlag(ip); err != nil {
					return err
				}
			}
			return a.withIPAM(cmd.Context(), func(c *client.Client, m *ipam.IPAM) error {
				ctx := cmd.Context()
				if len(reports) > 0 {
					if err := a.releaseFromReports(ctx, c, m, reports, force); err != nil {
						return err
					}
					fmt.Fprintln(a.opts.Stdout, "You may now unlock the data store.")
				}
				if ip == "" {
					return nil
				}
				notAllocated, err := m.ReleaseIPs(ctx, ipam.ReleaseOptions{Address: addr})
				if err != nil {
					return fmt.Errorf("release IP address %s: %w", addr, err)
				}
				if len(notAllocated) > 0 {
					return fmt.Errorf("IP address %s is not assigned", addr)
				}
				fmt.Fprintf(a.opts.Stdout, "Successfully released IP address %s\n", addr)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&ip, "ip", "", "IP address to release")
	f.StringArrayVar(&reports, "from-report", nil, "release all leaked addresses from this report (repeat: only those leaked in every report)")
	f.BoolVar(&force, "force", false, "release even when the data store is not locked or the report came from another calicoctl version")
	return cmd
}

// releaseFromReports applies Calico's safety rules, then releases what the
// reports agree is leaked: the report must come from this cluster (never
// overridable), from this calicoctl version and one of them must be current
// (ClusterInformation unchanged since), and the data store must be locked
// (ClusterInformation spec.datastoreReady false) unless --force.
func (a *app) releaseFromReports(ctx context.Context, c *client.Client, m *ipam.IPAM, files []string, force bool) error {
	out := a.opts.Stdout
	var cur checkReport
	ci, err := c.Get(ctx, v3.KindClusterInformation, "", v3.ClusterInformationName)
	locked := false
	switch {
	case client.IsNotFound(err):
	case err != nil:
		return err
	default:
		info := ci.(*v3.ClusterInformation)
		cur.ClusterGUID, cur.ClusterInfoRevision = info.Spec.ClusterGUID, info.ResourceVersion
		locked = info.Spec.DatastoreReady != nil && !*info.Spec.DatastoreReady
	}

	var reports []checkReport
	current := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read IPAM report: %w", err)
		}
		var r checkReport
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("IPAM report %s is not valid JSON: %v; regenerate it with calicoctl ipam check -o %s", f, err, f)
		}
		if r.ClusterGUID != cur.ClusterGUID {
			return fmt.Errorf("cluster does not match the provided report (%s): mismatched cluster GUID (%q, cluster has %q). Refusing to release", f, r.ClusterGUID, cur.ClusterGUID)
		}
		if r.Version != Version {
			if !force {
				return fmt.Errorf("the provided report (%s) was produced using a different version (%s) of calicoctl (this is %s). Refusing to release; regenerate it or use --force", f, r.Version, Version)
			}
			fmt.Fprintln(out, "WARNING: Report was produced using a different version of calicoctl. Ignoring due to --force option")
		}
		current = current || r.ClusterInfoRevision == cur.ClusterInfoRevision
		reports = append(reports, r)
	}
	if !current {
		return fmt.Errorf("the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again")
	}
	if !locked {
		if !force {
			return fmt.Errorf("data store is not locked. Either lock the data store (ClusterInformation default spec.datastoreReady: false), or re-run with --force")
		}
		fmt.Fprintln(out, "WARNING: Data store is not locked. Ignoring due to --force option")
	}

	ips, handles := mergeReports(reports)
	if len(ips) == 0 {
		fmt.Fprintln(out, "Report didn't contain any leaked IPs to clean up.")
	} else {
		fmt.Fprintf(out, "Releasing %d old IPs...\n", len(ips))
		notAllocated, err := m.ReleaseIPs(ctx, ips...)
		if err != nil {
			fmt.Fprintf(out, "An error occurred while releasing some IPs: %s.  Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.\n", err)
		} else {
			fmt.Fprintf(out, "Released %d IPs successfully\n", len(ips)-len(notAllocated))
		}
		if len(notAllocated) > 0 {
			fmt.Fprintf(out, "%d addresses marked as leaked in the report had already been cleaned up.\n", len(notAllocated))
		}
	}
	if len(handles) == 0 {
		fmt.Fprintln(out, "Report didn't contain any handles to clean up.")
		return nil
	}
	fmt.Fprintf(out, "Deleting %d handles...\n", len(handles))
	fmt.Fprintln(out, "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.")
	var released, skipped, failed int
	var errs []string
	for _, h := range handles {
		// CAS at the revision the check saw: a handle that has counted a
		// new allocation since has a new revision and is kept.
		_, err := c.Backend().Delete(ctx, datastore.Key{Kind: v3.KindIPAMHandle, Name: strings.ToLower(h.ID)}, h.Revision)
		switch {
		case err == nil:
			released++
			fmt.Fprint(out, ".")
		case errors.Is(err, datastore.ErrNotFound) || errors.Is(err, datastore.ErrConflict):
			skipped++
			fmt.Fprint(out, "x")
		default:
			failed++
			errs = append(errs, fmt.Sprintf("Deleting handle %s failed: %v.", h.ID, err))
		}
	}
	fmt.Fprintln(out)
	for _, e := range errs {
		fmt.Fprintln(out, e)
	}
	fmt.Fprintf(out, "Released %d handles; %d skipped; %d errors.\n", released, skipped, failed)
	return nil
}

// mergeReports returns the allocations not in use in every report (same
// address, handle and sequence number) and the leaked handles present, at
// the same revision, in every report.
func mergeReports(reports []checkReport) ([]ipam.ReleaseOptions, []reportHandle) {
	type allocKey struct {
		ip, handle string
		seq        uint64
	}
	var ips map[allocKey]ipam.ReleaseOptions
	var handles map[string]reportHandle
	for _, r := range reports {
		nextIPs := map[allocKey]ipam.ReleaseOptions{}
		for _, list := range r.Allocations {
			for _, al := range list {
				if al.InUse || al.SequenceNumber == nil {
					continue
				}
				addr, err := netip.ParseAddr(al.IP)
				if err != nil {
					continue
				}
				k := allocKey{al.IP, al.Handle, *al.SequenceNumber}
				if _, ok := ips[k]; ips != nil && !ok {
					continue
				}
				seq := *al.SequenceNumber
				nextIPs[k] = ipam.ReleaseOptions{Address: addr, Handle: al.Handle, SequenceNumber: &seq}
			}
		}
		ips = nextIPs
		nextHandles := map[string]reportHandle{}
		for _, h := range r.LeakedHandles {
			if old, ok := handles[h.ID]; handles == nil || (ok && old.Revision == h.Revision) {
				nextHandles[h.ID] = h
			}
		}
		handles = nextHandles
	}
	outIPs := slices.Collect(maps.Values(ips))
	slices.SortFunc(outIPs, func(a, b ipam.ReleaseOptions) int { return a.Address.Compare(b.Address) })
	outHandles := slices.Collect(maps.Values(handles))
	slices.SortFunc(outHandles, func(a, b reportHandle) int { return strings.Compare(a.ID, b.ID) })
	return outIPs, outHandles
}
