package lab

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// churnCycles is how many pods the churn scenario creates and deletes.
const churnCycles = 200

// TestPrivilegedScenario_PodChurn: two nodes, a long-lived pod on each, and
// 200 pods created and deleted through the CNI plugin, several at a time,
// spread over both nodes. Afterwards nothing of them is left: calicoctl
// ipam check finds no problem and the allocations are what they were, no
// WorkloadEndpoint, no cali* veth and no /32 route of a deleted pod is left
// on the nodes, no pod namespace is left; the long-lived pods still talk.
func TestPrivilegedScenario_PodChurn(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets: []Subnet{{Name: "s1", CIDR: "198.18.1.0/24"}},
		Nodes:   []Node{{Name: "node-1", Subnet: "s1"}, {Name: "node-2", Subnet: "s1"}},
		Pods:    []PodSpec{{Name: "keep-1", Node: "node-1"}, {Name: "keep-2", Node: "node-2"}},
	}
	l := upLab(t, topo)
	// The churn takes 1½–2 minutes on 2 CPUs at load average 25–50.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	expectMatrix(t, ctx, l, ProtoICMP, allReach, convergeTimeout)
	allocatedBefore := ipamInUse(t, ctx, l)
	l.opts.Progress = nil // not a log line per churned pod

	start := time.Now()
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, churnCycles)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < churnCycles; i += workers {
				name := fmt.Sprintf("churn-%d", i)
				if _, err := l.AddPod(ctx, PodSpec{Name: name, Node: topo.Nodes[i%2].Name}); err != nil {
					errs <- err
					return
				}
				if err := l.DelPod(ctx, name); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d pods created and deleted in %s (%d at a time)", churnCycles, time.Since(start).Round(time.Millisecond), workers)

	t.Run("IPAMCheckIsClean", func(t *testing.T) {
		out := calicoctl(t, ctx, l, "", "ipam", "check")
		if !strings.Contains(out, "found 0 problems") {
			t.Errorf("calicoctl ipam check after %d pod cycles:\n%s", churnCycles, out)
		}
		if after := ipamInUse(t, ctx, l); after != allocatedBefore {
			t.Errorf("IPs in use: %d before the churn, %d after; want no leak", allocatedBefore, after)
		}
	})

	t.Run("NoWorkloadEndpointLeft", func(t *testing.T) {
		c, closeC, err := l.Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer closeC()
		weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		var pods []string
		for _, w := range weps {
			pods = append(pods, w.Spec.Pod)
		}
		slices.Sort(pods)
		if !slices.Equal(pods, []string{"keep-1", "keep-2"}) {
			t.Errorf("WorkloadEndpoints for pods %v, want only keep-1 and keep-2", pods)
		}
	})

	t.Run("NoVethRouteOrNamespaceLeft", func(t *testing.T) {
		for node, pod := range map[string]string{"node-1": "keep-1", "node-2": "keep-2"} {
			keep, _ := l.Pod(pod)
			if links := linksIn(t, ctx, NodeNetns(l.RunID(), node), "cali"); !slices.Equal(links, []string{keep.HostIface}) {
				t.Errorf("%s has cali links %v, want only %s (keep's)", node, links, keep.HostIface)
			}
			out, err := ipCmd(ctx, "-n", NodeNetns(l.RunID(), node), "-4", "route", "show")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range podRoutes(out) {
				if r != keep.IP {
					t.Errorf("%s still routes %s to a pod interface: %s", node, r, out)
				}
			}
		}
		left, _ := listNetns(runPrefix(l.RunID()) + "pod-default.churn-")
		if len(left) > 0 {
			t.Errorf("%d churn pod namespaces left, e.g. %s", len(left), left[0])
		}
	})

	t.Run("LongLivedPodsStillTalk", func(t *testing.T) {
		expectMatrix(t, ctx, l, ProtoTCP, allReach, convergeTimeout)
	})
}

// podRouteRE matches a node's route to one pod: "10.244.1.2 dev cali… ".
var podRouteRE = regexp.MustCompile(`(?m)^(\d+\.\d+\.\d+\.\d+) dev cali\S+`)

// podRoutes returns the addresses routed to cali* interfaces in
// `ip route show` output.
func podRoutes(out string) []string {
	var ips []string
	for _, m := range podRouteRE.FindAllStringSubmatch(out, -1) {
		ips = append(ips, m[1])
	}
	return ips
}

// ipamInUse counts the allocated addresses of the pool, from calicoctl
// ipam show ("| IP Pool | 10.244.0.0/16 | 65536 | 5 (0%) | …").
func ipamInUse(t *testing.T, ctx context.Context, l *Lab) int {
	t.Helper()
	out := calicoctl(t, ctx, l, "", "ipam", "show")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "|")
		if len(f) > 4 && strings.TrimSpace(f[1]) == "IP Pool" {
			var n int
			if _, err := fmt.Sscanf(strings.TrimSpace(f[4]), "%d", &n); err == nil {
				return n
			}
		}
	}
	t.Fatalf("no pool line in calicoctl ipam show:\n%s", out)
	return 0
}
