package dataplane

import (
	"context"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// dbFromWeb is the matrix case used by the drift and restart tests.
func dbFromWeb(t *testing.T) matrixCase {
	for _, c := range matrixCases() {
		if c.name == "allow-tcp80-to-db-from-web-label" {
			return c
		}
	}
	t.Fatal("case allow-tcp80-to-db-from-web-label not found")
	return matrixCase{}
}

// TestPrivilegedPolicy_DriftIsRepairedOnResync deletes our rule and a set
// element with the nft CLI, shows the traffic changes, and expects the next
// resync apply to restore both.
func TestPrivilegedPolicy_DriftIsRepairedOnResync(t *testing.T) {
	l := newLab(t)
	tc := dbFromWeb(t)
	l.setObjects(t, tc.objs...)
	l.assertMatrix(t, tc.expect)
	ctx := context.Background()

	// Find the policy chain's allow rule and the web selector's set.
	chain := "pi-default/b/db-from-web"
	rs, err := l.nft.ListRules(ctx, chain)
	if err != nil || len(rs) == 0 {
		t.Fatalf("list rules of %s: %v (%d rules)", chain, err, len(rs))
	}
	sets, err := l.nft.List(ctx, "set")
	if err != nil {
		t.Fatal(err)
	}
	webSet := ""
	for _, s := range sets {
		if !strings.HasPrefix(s, "s4-") {
			continue
		}
		els, err := l.nft.ListElements(ctx, "set", s)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, e := range els {
			keys = append(keys, e.Key[0])
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") == "10.244.0.11,10.244.0.13" {
			webSet = s
		}
	}
	if webSet == "" {
		t.Fatalf("no set holds exactly the two web pods:\n%s", l.listTable(t))
	}

	// Hand edits: a web pod leaves the set; then the allow rule goes.
	l.node.exec(t, "nft", "delete", "element", "inet", TableName, webSet, "{ 10.244.0.13 }")
	if reach(l.pods[3], l.pods[2], probe{proto: "tcp", port: 80}) {
		t.Fatal("after deleting the set element web-b still reaches db: the probe proves nothing")
	}
	l.node.exec(t, "nft", "delete", "rule", "inet", TableName, chain, "handle", strconv.Itoa(*rs[0].Handle))
	if reach(l.pods[1], l.pods[2], probe{proto: "tcp", port: 80}) {
		t.Fatal("after deleting the allow rule web-a still reaches db")
	}

	// The periodic resync (forced here) finds and repairs both.
	l.mgr.Resync()
	if err := l.mgr.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	if d := l.mgr.Stats().DriftRepairs; d < 2 {
		t.Errorf("drift repairs = %d, want at least 2 (the chain and the set)", d)
	}
	l.assertMatrix(t, tc.expect)
}

// TestPrivilegedPolicy_RestartKeepsTableAndConnections replaces the
// manager (and calc graph) as an agent restart would, while a TCP
// connection is open: the new manager reads the table back, finds nothing
// to change, keeps every rule handle and counter, and the connection keeps
// working; then it converges on a policy change.
func TestPrivilegedPolicy_RestartKeepsTableAndConnections(t *testing.T) {
	l := newLab(t)
	l.setObjects(t)
	l.assertMatrix(t, baseline)

	var conn net.Conn
	if err := l.pods[0].ns.do(func() (err error) {
		conn, err = net.DialTimeout("tcp4", net.JoinHostPort(l.pods[1].ip, "80"), 3*time.Second)
		return
	}); err != nil {
		t.Fatalf("open long-lived connection: %v", err)
	}
	defer conn.Close()
	talk := func(when string) {
		t.Helper()
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		if !echo(conn) {
			t.Fatalf("%s: the established TCP connection no longer works", when)
		}
	}
	talk("before restart")

	handlesBefore := l.ruleHandles(t)
	countBefore := l.counter(t, "pro-kns.a")

	// Restart: fresh graph fed the full snapshot, fresh manager and nft.
	l.graph = calc.New(calc.Config{NodeName: nodeName})
	l.mgr = NewPolicyManager(l.newNFT(t), PolicyConfig{RefreshInterval: -1})
	snapshot := l.state
	l.state = nil
	l.setObjectsFrom(t, snapshot, false)
	talk("after restart, before in-sync")
	l.graph.OnStatusUpdated(datastore.InSync)
	l.mgr.OnUpdates(l.graph.Flush())
	if err := l.mgr.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ops := l.mgr.Stats().LastResult.Operations; ops != 0 {
		t.Errorf("restarted manager ran %d nft operations on an up-to-date table, want 0", ops)
	}
	talk("after restart and in-sync")

	// Both read-back paths (one `nft -j list table`, and knftables' calls
	// per object) see the table as up to date.
	for _, tc := range []struct {
		name string
		nft  knftables.Interface
	}{{"one-shot JSON", l.newNFT(t)}, {"per object", perObjectNFT{l.newNFT(t)}}} {
		g := calc.New(calc.Config{NodeName: nodeName})
		var ups []datastore.Update
		for k, v := range l.state {
			ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: v}, UpdateType: datastore.UpdateTypeNew})
		}
		g.OnUpdates(ups)
		g.OnStatusUpdated(datastore.InSync)
		m := NewPolicyManager(tc.nft, PolicyConfig{RefreshInterval: -1})
		m.OnUpdates(g.Flush())
		if err := m.Apply(context.Background()); err != nil {
			t.Fatalf("%s read-back: %v", tc.name, err)
		}
		if ops := m.Stats().LastResult.Operations; ops != 0 {
			t.Errorf("%s read-back: %d operations on an up-to-date table, want 0", tc.name, ops)
		}
	}

	if handlesAfter := l.ruleHandles(t); handlesAfter != handlesBefore {
		t.Errorf("rule handles changed across the restart (table was rewritten)")
	}
	if countAfter := l.counter(t, "pro-kns.a"); countAfter < countBefore || countBefore == 0 {
		t.Errorf("profile rule counter went from %d to %d: want non-zero and not reset", countBefore, countAfter)
	}

	// The restarted manager converges on changes.
	tc := dbFromWeb(t)
	l.setObjects(t, tc.objs...)
	l.assertMatrix(t, tc.expect)
	talk("after a policy change")
}

// setObjectsFrom feeds a complete datastore state (as a snapshot after a
// restart would) and applies; with inSync false nothing may be removed.
func (l *lab) setObjectsFrom(t *testing.T, snap map[datastore.Key][]byte, inSync bool) {
	t.Helper()
	var ups []datastore.Update
	for k, v := range snap {
		ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k, Value: v}, UpdateType: datastore.UpdateTypeNew})
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Key.String() < ups[j].Key.String() })
	l.state = snap
	l.graph.OnUpdates(ups)
	if inSync {
		l.graph.OnStatusUpdated(datastore.InSync)
	}
	l.mgr.OnUpdates(l.graph.Flush())
	if err := l.mgr.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// ruleHandles renders every rule's chain, handle and comment.
func (l *lab) ruleHandles(t *testing.T) string {
	t.Helper()
	rs, err := l.nft.ListRules(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Chain+" "+strconv.Itoa(*r.Handle)+" "+*r.Comment)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

var packetsRE = regexp.MustCompile(`counter packets (\d+)`)

// counter sums the packet counters of a chain's rules.
func (l *lab) counter(t *testing.T, chain string) int {
	t.Helper()
	sum := 0
	for _, m := range packetsRE.FindAllStringSubmatch(l.node.exec(t, "nft", "list", "chain", "inet", TableName, chain), -1) {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	return sum
}

// TestPrivilegedPolicy_RemovingEverythingIsOneValidTransaction removes every
// endpoint, policy, profile and set at once: the kernel (unlike the fake)
// refuses to delete a set or chain still in use, so this checks the removal
// order of a single transaction.
func TestPrivilegedPolicy_RemovingEverythingIsOneValidTransaction(t *testing.T) {
	l := newLab(t)
	var all []v3.Resource
	for _, c := range matrixCases() {
		all = append(all, c.objs...)
	}
	l.setObjects(t, all...)
	ctx := context.Background()
	before, err := l.nft.List(ctx, "chain")
	if err != nil {
		t.Fatal(err)
	}

	var ups []datastore.Update
	for k := range l.state {
		ups = append(ups, datastore.Update{KVPair: datastore.KVPair{Key: k}, UpdateType: datastore.UpdateTypeDeleted})
	}
	l.state = map[datastore.Key][]byte{}
	l.graph.OnUpdates(ups)
	l.mgr.OnUpdates(l.graph.Flush())
	if err := l.mgr.Apply(ctx); err != nil {
		t.Fatalf("removing everything in one transaction: %v", err)
	}
	after, err := l.nft.List(ctx, "chain")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range after {
		if strings.HasPrefix(c, "pi-") || strings.HasPrefix(c, "po-") || strings.HasPrefix(c, "tw-") || strings.HasPrefix(c, "fw-") || strings.HasPrefix(c, "pri-") || strings.HasPrefix(c, "pro-") {
			t.Errorf("chain %s left behind", c)
		}
	}
	if len(after) >= len(before) {
		t.Errorf("%d chains before, %d after: nothing was removed", len(before), len(after))
	}
	sets, _ := l.nft.List(ctx, "set")
	for _, s := range sets {
		if strings.HasPrefix(s, "s4-") || strings.HasPrefix(s, "s6-") {
			t.Errorf("set %s left behind", s)
		}
	}
	// Every pod is now an unknown interface: only the host and the
	// outside still talk.
	l.assertMatrix(t, anyOf(allOf(from(pHost), to(pOutside)), allOf(from(pOutside), to(pHost))))
}
