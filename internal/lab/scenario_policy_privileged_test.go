package lab

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/examples"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// policyAllows is what examples/lab-policy.yaml lets through: nothing from
// the ops namespace reaches the shop namespace (a GlobalNetworkPolicy in
// the security tier), and only shop's web pods reach its database (a
// NetworkPolicy in the default tier).
func policyAllows(from, to Pod) bool {
	return examples.LabPolicyAllows(from.Namespace, from.Labels, to.Namespace, to.Labels)
}

// TestPrivilegedScenario_PolicyAcrossNodesSurvivesRestartsAndDatastoreLoss:
// three nodes on two subnets (BGP between rack-a's nodes, VXLAN to rack-b),
// pods of two namespaces spread over them, and the demo's policy
// (examples/lab-policy.yaml: a GlobalNetworkPolicy and a NetworkPolicy in
// two tiers) applied with calicoctl. The full reachability matrix follows
// the policy across nodes; it stays so while a node's calico-node restarts
// or crashes and while the datastore is down; once the datastore is back,
// new pods get addresses, connectivity and the policy.
func TestPrivilegedScenario_PolicyAcrossNodesSurvivesRestartsAndDatastoreLoss(t *testing.T) {
	testutil.RequireRoot(t)
	topo := &Topology{
		Subnets: []Subnet{{Name: "rack-a", CIDR: "198.18.1.0/24"}, {Name: "rack-b", CIDR: "198.18.2.0/24"}},
		Nodes:   []Node{{Name: "node-1", Subnet: "rack-a"}, {Name: "node-2", Subnet: "rack-a"}, {Name: "node-3", Subnet: "rack-b"}},
		Pods: []PodSpec{
			{Name: "web-1", Namespace: "shop", Node: "node-1", Labels: map[string]string{"app": "web"}},
			{Name: "db", Namespace: "shop", Node: "node-2", Labels: map[string]string{"app": "db"}},
			{Name: "web-2", Namespace: "shop", Node: "node-3", Labels: map[string]string{"app": "web"}},
			{Name: "client", Namespace: "shop", Node: "node-3", Labels: map[string]string{"app": "client"}},
			{Name: "probe", Namespace: "ops", Node: "node-1", Labels: map[string]string{"app": "probe"}},
		},
	}
	l := upLab(t, topo)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	t.Run("NoPolicyEveryPodReachesEveryPod", func(t *testing.T) {
		expectMatrix(t, ctx, l, ProtoTCP, allReach, convergeTimeout)
	})

	t.Run("PolicyIsolatesAcrossNodes", func(t *testing.T) {
		calicoctl(t, ctx, l, string(examples.LabPolicy), "apply", "-f", "-")
		for _, proto := range []string{ProtoTCP, ProtoUDP, ProtoICMP} {
			m := expectMatrix(t, ctx, l, proto, policyAllows, convergeTimeout)
			t.Logf("%s with policy:\n%s", proto, m)
		}
	})

	t.Run("NodeRestartKeepsTrafficAndPolicy", func(t *testing.T) {
		// node-2 holds the database: its policy and routes stay in the
		// kernel while calico-node is down (invariant 6), and the restarted
		// agent takes over without a gap in enforcement.
		if err := l.StopNode(ctx, "node-2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // past the moment a stopping agent's sessions close
		m, err := l.Matrix(ctx, MatrixOptions{Proto: ProtoTCP})
		if err != nil {
			t.Fatal(err)
		}
		checkWhileNodeStopped(t, ctx, l, m, "node-2")
		if err := l.StartNode(ctx, "node-2"); err != nil {
			t.Fatal(err)
		}
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, convergeTimeout)
	})

	t.Run("NodeCrashKeepsTrafficAndPolicy", func(t *testing.T) {
		// A crashed agent (SIGKILL) closes its BGP sessions without a
		// notification: its peers keep its routes through graceful restart,
		// so nothing at all changes until it is back.
		p, ok := l.process(RoleNode, "node-1")
		if !ok {
			t.Fatal("no calico-node process recorded for node-1")
		}
		if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for p.alive() {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second) // as long as after the graceful stop above
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, 0)
		if err := l.StartNode(ctx, "node-1"); err != nil {
			t.Fatal(err)
		}
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, convergeTimeout)
	})

	t.Run("DatastoreDownPodsKeepTalkingPolicyStaysEnforced", func(t *testing.T) {
		if err := l.StopDatastore(ctx); err != nil {
			t.Fatal(err)
		}
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, 0)
		// Long enough for every agent to have noticed the loss (watch
		// errors, retries) and to have had a chance to misbehave.
		time.Sleep(5 * time.Second)
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, 0)
		s, err := l.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range s.Nodes {
			if !n.Running {
				t.Errorf("calico-node on %s exited while the datastore was down (log %s)", n.Name, n.Log)
			}
		}
	})

	t.Run("DatastoreBackNewPodsWorkUnderPolicy", func(t *testing.T) {
		if err := l.StartDatastore(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range []PodSpec{
			{Name: "web-3", Namespace: "shop", Node: "node-3", Labels: map[string]string{"app": "web"}},
			{Name: "client-2", Namespace: "shop", Node: "node-1", Labels: map[string]string{"app": "client"}},
		} {
			if _, err := l.AddPod(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		expectMatrix(t, ctx, l, ProtoTCP, policyAllows, convergeTimeout)
	})
}

// checkWhileNodeStopped checks a matrix taken while a node's calico-node
// is stopped (SIGTERM): every pair must be as the policy says. Its BGP peers
// keep its routes through graceful restart, as Calico's do when BIRD goes
// away, so pairs between the stopped node and a node reaching it over BGP
// must still connect; such a failure names the missing route.
func checkWhileNodeStopped(t *testing.T, ctx context.Context, l *Lab, m *Matrix, stopped string) {
	t.Helper()
	pods := map[string]Pod{}
	for _, p := range l.Pods() {
		pods[p.Key()] = p
	}
	for i, from := range m.Pods {
		for j, to := range m.Pods {
			src, dst := pods[from], pods[to]
			want := policyAllows(src, dst)
			if i == j || m.OK[i][j] == want {
				continue
			}
			why := ""
			if want && (src.Node == stopped) != (dst.Node == stopped) {
				peer, onStopped := src.Node, dst
				if src.Node == stopped {
					peer, onStopped = dst.Node, src
				}
				if routeTo(ctx, l, peer, onStopped) == "" {
					why = fmt.Sprintf(" (%s has no route to %s: its BGP peer did not keep the stopped node's routes)", peer, onStopped.IP)
				}
			}
			t.Errorf("with calico-node on %s stopped: %s -> %s reached=%v, want %v%s\n%s", stopped, from, to, m.OK[i][j], want, why, m)
		}
	}
}
