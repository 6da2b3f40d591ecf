package cni

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// GC (spec 1.1) releases the addresses, and deletes the endpoints, of this
// network's containers on this node that the runtime no longer lists in
// cni.dev/valid-attachments. Only handles named "<network>.<containerID>"
// whose allocations carry this node are considered, so other networks and
// other nodes are never touched. The runtime must not run GC concurrently
// with ADDs on the same network (the spec requires it to serialise them).
func (p *Plugin) GC(a *skel.CmdArgs) error {
	s, err := p.begin(a, "GC")
	if err != nil {
		return err
	}
	defer s.closeL()
	if s.conf.IPAM.Type != IPAMTypeCalico {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	c, closeC, err := p.open(ctx, s)
	if err != nil {
		return err
	}
	defer closeC()
	valid := map[string]bool{}
	for _, at := range append(s.conf.ValidAttachments, s.conf.Attachments...) {
		valid[at.ContainerID] = true
	}
	stale, err := staleContainers(ctx, c, s.conf.Name, s.node, valid)
	if err != nil {
		return cniError(types.ErrTryAgainLater, "listing IPAM blocks for GC failed", err)
	}
	m := newIPAM(c, s.log)
	weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, c, "")
	if err != nil {
		return cniError(types.ErrTryAgainLater, "listing workload endpoints for GC failed", err)
	}
	for _, cid := range stale {
		released, err := releaseHandle(ctx, m, HandleID(s.conf.Name, cid))
		if err != nil {
			return cniError(types.ErrTryAgainLater, "GC: releasing a stale handle failed", err)
		}
		for _, w := range weps {
			if w.Spec.Node == s.node && w.Spec.ContainerID == cid {
				if _, err := c.Delete(ctx, v3.KindWorkloadEndpoint, w.Namespace, w.Name, w.ResourceVersion); err != nil && !client.IsNotFound(err) {
					return cniError(types.ErrTryAgainLater, "GC: deleting a stale workload endpoint failed", err)
				}
				_ = DeleteHostVeth(w.Spec.InterfaceName)
			}
		}
		s.log.Info("GC released a stale attachment", "containerID", cid, "addrs", released)
	}
	return nil
}

// staleContainers lists container IDs holding addresses of network on node
// that are not in valid.
func staleContainers(ctx context.Context, c *client.Client, network, node string, valid map[string]bool) ([]string, error) {
	blocks, _, err := client.List[*v3.IPAMBlock](ctx, c, "")
	if err != nil {
		return nil, err
	}
	prefix := network + "."
	seen := map[string]bool{}
	var out []string
	for _, b := range blocks {
		for _, attr := range b.Spec.Attributes {
			if attr.AttrPrimary == nil || attr.ReleasedAt != nil || attr.AttrSecondary[ipam.AttrNode] != node {
				continue
			}
			h := *attr.AttrPrimary
			if !strings.HasPrefix(h, prefix) {
				continue
			}
			cid := strings.TrimPrefix(h, prefix)
			if valid[cid] || seen[cid] {
				continue
			}
			seen[cid] = true
			out = append(out, cid)
		}
	}
	return out, nil
}

// testHookEnv names the test-only pause hook: "<point>=<path>" makes the
// plugin create <path>.reached at that point and wait (up to a minute) for
// <path>.go, so tests can inject failures between steps (stop the
// datastore, delete the netns). Unset in production.
const testHookEnv = "TRICOLOR_CNI_TEST_HOOK"

// testHook pauses at point when the hook names it.
func testHook(getenv func(string) string, point string) error {
	spec := getenv(testHookEnv)
	p, path, ok := strings.Cut(spec, "=")
	if !ok || p != point {
		return nil
	}
	if err := writeFile(path+".reached", "1"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if fileExists(path + ".go") {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
