package cni_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/cni"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

func TestPrivilegedCNI_FiftyConcurrentAddsGetDistinctWorkingAddresses(t *testing.T) {
	n := newNode(t)
	l := n.confList("1.0.0", n.calicoConf(map[string]any{"log_level": "warning"}))
	const count = 50
	pods := make([]*pod, count)
	for i := range pods {
		pods[i] = n.newPod("load", fmt.Sprintf("pod-%02d", i), nil)
	}
	addrs := make([]netip.Addr, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := n.cni.AddNetworkList(context.Background(), l, p.rt)
			if err != nil {
				errs[i] = err
				return
			}
			cr, err := current.NewResultFromResult(r)
			if err != nil || len(cr.IPs) != 1 {
				errs[i] = fmt.Errorf("result %v: %v", r, err)
				return
			}
			addrs[i], _ = netip.AddrFromSlice(cr.IPs[0].Address.IP.To4())
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]string{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ADD %s: %v\nstderr:\n%s", pods[i].name, err, n.stderr.String())
		}
		if other, dup := seen[addrs[i]]; dup {
			t.Fatalf("%s and %s both got %s", other, pods[i].name, addrs[i])
		}
		seen[addrs[i]] = pods[i].name
	}
	// Every veth works: ping each pod from the host namespace.
	for i := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.ping(addrs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if links := strings.Count(n.host.IP(t, "-o", "link", "show"), "cali"); links != count {
		t.Fatalf("%d cali links in the host namespace; want %d", links, count)
	}
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.cni.DelNetworkList(context.Background(), l, p.rt)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("DEL %s: %v", pods[i].name, err)
		}
	}
	n.assertClean("after 50 concurrent DELs")
}

func TestPrivilegedCNI_RepeatedAddReplacesAndCheckNamesWhatIsWrong(t *testing.T) {
	n := newNode(t)
	l := n.confList("1.0.0", n.calicoConf(nil))
	p := n.newPod("default", "again", nil)
	first := podAddr(t, n.add(l, p), true)
	second := podAddr(t, n.add(l, p), true)
	handles, _, err := client.List[*v3.IPAMHandle](context.Background(), n.client, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(handles) != 1 || handles[0].Spec.Block == nil {
		t.Fatalf("after a repeated ADD there are %d handles; want 1", len(handles))
	}
	held := 0
	for _, c := range handles[0].Spec.Block {
		held += c
	}
	if held != 1 {
		t.Fatalf("handle holds %d addresses after a repeated ADD (first %s, second %s); want 1 — the first must be released", held, first, second)
	}
	if err := n.ping(second); err != nil {
		t.Fatal(err)
	}
	if err := n.cni.CheckNetworkList(context.Background(), l, p.rt); err != nil {
		t.Fatalf("CHECK after repeated ADD: %v", err)
	}

	// Break two things; CHECK must name both.
	veth := cni.VethNameForPod(p.namespace, p.name)
	n.host.IP(t, "route", "del", second.String()+"/32", "dev", veth)
	p.ns.IP(t, "route", "del", "default")
	err = n.cni.CheckNetworkList(context.Background(), l, p.rt)
	te := cniErr(t, err, "host route "+second.String()+"/32 dev "+veth+" scope link is missing")
	if te.Code != cni.ErrCodeCheckFailed || !strings.Contains(te.Details, "pod default route via 169.254.1.1 dev eth0 is missing") {
		t.Fatalf("CHECK error %+v should carry code %d and name the missing default route", te, cni.ErrCodeCheckFailed)
	}
	n.del(l, p)
	n.assertClean("after DEL")
}

func TestPrivilegedCNI_GCReleasesUnlistedAttachmentsAndStatusReportsDatastore(t *testing.T) {
	n := newNode(t)
	l := n.confList("1.1.0", n.calicoConf(nil))
	keep := n.newPod("default", "keep", nil)
	gone := n.newPod("default", "gone", nil)
	n.add(l, keep)
	n.add(l, gone)
	ctx := context.Background()
	// A leak no runtime knows about: a handle of this network on this node
	// (as a crashed ADD would leave), one of another network and one of
	// another node, which GC must not touch.
	m := ipam.New(n.client.Backend(), ipam.Options{})
	for _, h := range []struct{ handle, node string }{
		{"k8s-pod-network.leaked0123", "node-1"}, {"other-net.leaked0123", "node-1"}, {"k8s-pod-network.elsewhere", "node-2"},
	} {
		if _, _, err := m.AutoAssign(ctx, ipam.AutoAssignArgs{Num4: 1, HandleID: h.handle, Hostname: h.node,
			Attrs: map[string]string{ipam.AttrNode: h.node}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.cni.GetStatusNetworkList(ctx, l); err != nil {
		t.Fatalf("STATUS with the datastore up: %v", err)
	}
	err := n.cni.GCNetworkList(ctx, l, &libcni.GCArgs{ValidAttachments: []types.GCAttachment{{ContainerID: keep.rt.ContainerID, IfName: "eth0"}}})
	if err != nil {
		t.Fatalf("GC: %v\n%s", err, n.stderr.String())
	}
	handles, _, err := client.List[*v3.IPAMHandle](ctx, n.client, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range handles {
		names = append(names, h.Spec.HandleID)
	}
	want := []string{"k8s-pod-network." + keep.rt.ContainerID, "k8s-pod-network.elsewhere", "other-net.leaked0123"}
	if fmt.Sprint(sortStrings(names)) != fmt.Sprint(sortStrings(want)) {
		t.Fatalf("after GC handles are %v; want %v", names, want)
	}
	if err := n.cni.CheckNetworkList(ctx, l, keep.rt); err != nil {
		t.Fatalf("the listed attachment was harmed by GC: %v", err)
	}

	n.etcd.Stop()
	err = n.cni.GetStatusNetworkList(ctx, l)
	te := cniErr(t, err, "datastore does not answer")
	if te.Code != cni.ErrCodeStatusUnavailable {
		t.Fatalf("STATUS with the datastore down: code %d; want %d", te.Code, cni.ErrCodeStatusUnavailable)
	}
	n.etcd.Start()
	n.del(l, keep)
}

func TestPrivilegedCNI_InjectedFailuresLeaveNothingBehind(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	hook := filepath.Join(t.TempDir(), "hook")

	t.Run("datastore down mid-ADD", func(t *testing.T) {
		n.t = t
		l := n.confList("1.0.0", n.calicoConf(nil))
		p := n.newPod("default", "ds-down", nil)
		t.Setenv("TRICOLOR_CNI_TEST_HOOK", "after-veth="+hook+"1")
		n.stderr.Reset()
		done := make(chan error, 1)
		go func() { _, err := n.cni.AddNetworkList(ctx, l, p.rt); done <- err }()
		waitFile(t, hook+"1.reached")
		n.etcd.Stop()
		if err := os.WriteFile(hook+"1.go", nil, 0o644); err != nil {
			t.Fatal(err)
		}
		// The endpoint write fails; the rollback rides out the outage and
		// releases the address once the datastore is back.
		waitLog(t, n.logFile, "pod=ds-down", "rolling back")
		n.etcd.Start()
		err := <-done
		te := cniErr(t, err, "writing workload endpoint")
		if te.Code != types.ErrTryAgainLater {
			t.Errorf("code %d; want %d (try again later)", te.Code, types.ErrTryAgainLater)
		}
		assertStderrCNIError(t, n.stderr.String(), "writing workload endpoint")
		n.assertClean("after an ADD that lost its datastore")
	})

	t.Run("netns vanishes mid-ADD", func(t *testing.T) {
		n.t = t
		l := n.confList("1.0.0", n.calicoConf(nil))
		p := n.newPod("default", "ns-gone", nil)
		t.Setenv("TRICOLOR_CNI_TEST_HOOK", "after-ipam="+hook+"2")
		done := make(chan error, 1)
		go func() { _, err := n.cni.AddNetworkList(ctx, l, p.rt); done <- err }()
		waitFile(t, hook+"2.reached")
		testutil.MustRun(t, "ip", "netns", "del", p.ns.Name)
		if err := os.WriteFile(hook+"2.go", nil, 0o644); err != nil {
			t.Fatal(err)
		}
		te := cniErr(t, <-done, "pod network namespace "+p.path+" cannot be opened")
		if te.Code != types.ErrInvalidNetNS {
			t.Errorf("code %d; want %d (invalid netns)", te.Code, types.ErrInvalidNetNS)
		}
		n.assertClean("after an ADD whose netns vanished")
		// DEL of a container whose netns is gone succeeds.
		t.Setenv("TRICOLOR_CNI_TEST_HOOK", "")
		n.del(l, p)
	})

	t.Run("IPAM exhausted", func(t *testing.T) {
		n.t = t
		n.createPool("tiny", "10.245.0.0/30", 30)
		l := n.confList("1.0.0", n.calicoConf(map[string]any{"ipam": map[string]any{"type": "calico-ipam", "ipv4_pools": []string{"tiny"}}}))
		var pods []*pod
		for i := 0; i < 4; i++ {
			p := n.newPod("default", fmt.Sprintf("tiny-%d", i), nil)
			n.add(l, p)
			pods = append(pods, p)
		}
		extra := n.newPod("default", "one-too-many", nil)
		n.stderr.Reset()
		_, err := n.cni.AddNetworkList(ctx, l, extra.rt)
		te := cniErr(t, err, "no IP addresses available")
		if te.Code != cni.ErrCodeNoAddresses {
			t.Errorf("code %d; want %d", te.Code, cni.ErrCodeNoAddresses)
		}
		assertStderrCNIError(t, n.stderr.String(), "no IP addresses available")
		if out := extra.ns.IP(t, "link", "show"); strings.Contains(out, "eth0") {
			t.Errorf("failed ADD left eth0 in the pod:\n%s", out)
		}
		for _, p := range pods {
			n.del(l, p)
		}
		n.del(l, extra)
		n.assertClean("after exhausting the pool")
	})
}

func TestPrivilegedCNI_Cnitool(t *testing.T) {
	n := newNode(t)
	tool := filepath.Join(t.TempDir(), "cnitool")
	if out, err := exec.Command("go", "build", "-o", tool, "github.com/containernetworking/cni/cnitool").CombinedOutput(); err != nil {
		t.Fatalf("build cnitool: %v\n%s", err, out)
	}
	confDir := t.TempDir()
	l := n.confList("1.0.0", n.calicoConf(nil))
	if err := os.WriteFile(filepath.Join(confDir, "10-calico.conflist"), l.Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	p := n.newPod("default", "via-cnitool", nil)
	run := func(cmd string) string {
		c := exec.Command("ip", "netns", "exec", n.host.Name, tool, cmd, "k8s-pod-network", p.path)
		c.Env = append(os.Environ(), "NETCONFPATH="+confDir, "CNI_PATH="+plugins.Dir(t)+":"+debianCNIDir,
			"CNI_ARGS=K8S_POD_NAMESPACE=default;K8S_POD_NAME=via-cnitool", "CNI_CONTAINERID="+p.rt.ContainerID)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("cnitool %s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	out := run("add")
	if !strings.Contains(out, "10.244.") || !strings.Contains(out, "\"cniVersion\": \"1.0.0\"") {
		t.Fatalf("cnitool add printed no 1.0.0 result with a pod address:\n%s", out)
	}
	if addr := p.ns.IP(t, "-4", "addr", "show", "dev", "eth0"); !strings.Contains(addr, "/32") {
		t.Fatalf("pod has no /32 after cnitool add:\n%s", addr)
	}
	run("check")
	run("del")
	n.assertClean("after cnitool del")
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// waitLog waits until the plugin's log has a line containing both strings.
func waitLog(t *testing.T, file, a, b string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(file)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, a) && strings.Contains(line, b) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the plugin never logged %q with %q in %s", b, a, file)
}

// assertStderrCNIError checks the plugin wrote its error to stderr as a
// CNI error object (code, msg, details).
func assertStderrCNIError(t *testing.T, stderr, want string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		var e types.Error
		if json.Unmarshal([]byte(line), &e) == nil && e.Code != 0 && e.Msg != "" && strings.Contains(e.Msg+e.Details, want) {
			return
		}
	}
	t.Fatalf("stderr has no CNI error JSON mentioning %q:\n%s", want, stderr)
}

func TestPrivilegedCNI_DualStackUsesTheHostVethsLinkLocalAsIPv6Gateway(t *testing.T) {
	n := newNode(t)
	n.createPool("pod-pool-v6", "fd00:10:244::/64", 122)
	l := n.confList("1.0.0", n.calicoConf(map[string]any{"ipam": map[string]any{"type": "calico-ipam", "assign_ipv4": "true", "assign_ipv6": "true"}}))
	p := n.newPod("default", "dual", nil)
	r := n.add(l, p)
	v4, v6 := podAddr(t, r, true), podAddr(t, r, false)
	veth := cni.VethNameForPod(p.namespace, p.name)
	ll := n.host.IP(t, "-6", "addr", "show", "dev", veth, "scope", "link")
	if !strings.Contains(ll, "inet6 fe80::") {
		t.Fatalf("host veth has no link-local address:\n%s", ll)
	}
	if addr := p.ns.IP(t, "-6", "addr", "show", "dev", "eth0"); !strings.Contains(addr, v6.String()+"/128") {
		t.Fatalf("pod lacks %s/128:\n%s", v6, addr)
	}
	if routes := p.ns.IP(t, "-6", "route", "show", "default"); !strings.Contains(routes, "default via fe80::") || !strings.Contains(routes, "dev eth0") {
		t.Fatalf("pod IPv6 default route is not via the host veth's link-local:\n%s", routes)
	}
	if routes := n.host.IP(t, "-6", "route", "show", "dev", veth); !strings.Contains(routes, v6.String()+" ") {
		t.Fatalf("host lacks route %s dev %s:\n%s", v6, veth, routes)
	}
	for _, a := range []netip.Addr{v4, v6} {
		if err := n.ping(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.cni.CheckNetworkList(context.Background(), l, p.rt); err != nil {
		t.Fatalf("CHECK of a dual-stack pod: %v", err)
	}
	// TRICOLOR_CNI_DUMP=<file> keeps what a user would see, for docs/cni.md.
	if dump := os.Getenv("TRICOLOR_CNI_DUMP"); dump != "" {
		var b strings.Builder
		for _, c := range []struct {
			title string
			ns    *testutil.Netns
			args  []string
		}{
			{"pod: ip addr show eth0", p.ns, []string{"addr", "show", "eth0"}},
			{"pod: ip route", p.ns, []string{"route"}},
			{"pod: ip -6 route", p.ns, []string{"-6", "route"}},
			{"host: ip link show " + veth, n.host, []string{"link", "show", veth}},
			{"host: ip route", n.host, []string{"route"}},
			{"host: ip -6 route", n.host, []string{"-6", "route"}},
		} {
			fmt.Fprintf(&b, "$ %s\n%s\n", c.title, c.ns.IP(t, c.args...))
		}
		_ = os.WriteFile(dump, []byte(b.String()), 0o644)
	}
	n.del(l, p)
	n.assertClean("after dual-stack DEL")
}

func TestPrivilegedCNI_PlainCNIWorkloadsAndIPAMBinary(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()

	t.Run("calico with host-local IPAM, no Kubernetes arguments", func(t *testing.T) {
		n.t = t
		l := n.confList("1.0.0", n.calicoConf(map[string]any{"ipam": map[string]any{
			"type": "host-local", "dataDir": t.TempDir(), "ranges": [][]map[string]string{{{"subnet": "10.244.200.0/24"}}}}}))
		p := n.newPod("default", "plain", nil)
		p.rt.Args = nil
		r := n.add(l, p)
		ip := podAddr(t, r, true)
		if !netip.MustParsePrefix("10.244.200.0/24").Contains(ip) {
			t.Fatalf("address %s is not from host-local's range", ip)
		}
		veth := "cali" + p.rt.ContainerID[:11]
		assertDataPath(t, n, p, veth, ip)
		weps, _, err := client.List[*v3.WorkloadEndpoint](ctx, n.client, "")
		if err != nil || len(weps) != 1 {
			t.Fatalf("want one WEP, got %d (%v)", len(weps), err)
		}
		w := weps[0]
		if w.Name != "node--1-cni-"+p.rt.ContainerID+"-eth0" || w.Spec.Orchestrator != "cni" || w.Spec.Profiles[0] != "k8s-pod-network" {
			t.Fatalf("plain CNI WEP %s: %+v", w.Name, w.Spec)
		}
		if _, err := n.client.Get(ctx, v3.KindProfile, "", "k8s-pod-network"); err != nil {
			t.Fatalf("the network's profile was not created: %v", err)
		}
		n.del(l, p)
		n.assertClean("after DEL of a plain CNI workload")
	})

	// calico-ipam's /32 results suit calico, not ptp or bridge (they want an
	// on-link subnet), so its binary is driven directly as the runtime
	// would through a main plugin: ADD, CHECK, DEL by network config.
	t.Run("calico-ipam as its own binary", func(t *testing.T) {
		n.t = t
		conf := map[string]any{"type": "calico-ipam", "someMainPluginField": true,
			"datastore_type": "etcdv3", "etcd_endpoints": n.etcdInNS, "nodename": n.name, "log_file_path": n.logFile,
			"ipam": map[string]any{"type": "calico-ipam"}}
		l := n.confList("1.0.0", conf)
		p := n.newPod("default", "ipam-only", nil)
		ip := podAddr(t, n.add(l, p), true)
		if !netip.MustParsePrefix("10.244.0.0/16").Contains(ip) {
			t.Fatalf("calico-ipam gave %s, outside the pool", ip)
		}
		handles, _, err := client.List[*v3.IPAMHandle](ctx, n.client, "")
		if err != nil || len(handles) != 1 || handles[0].Spec.HandleID != "k8s-pod-network."+p.rt.ContainerID {
			t.Fatalf("handles %v (%v); want k8s-pod-network.%s", handles, err, p.rt.ContainerID)
		}
		if err := n.cni.CheckNetworkList(ctx, l, p.rt); err != nil {
			t.Fatalf("CHECK calico-ipam: %v", err)
		}
		if err := n.cni.GetStatusNetworkList(ctx, n.confList("1.1.0", conf)); err != nil {
			t.Fatalf("calico-ipam STATUS: %v", err)
		}
		n.del(l, p)
		n.assertClean("after calico-ipam DEL")
	})
}

func TestPrivilegedCNI_PoolAndAddressAnnotationsFromTheRuntime(t *testing.T) {
	n := newNode(t)
	n.createPool("pool-b", "10.247.0.0/16", 26)
	l := n.confList("1.0.0", n.calicoConf(map[string]any{"capabilities": map[string]bool{"io.kubernetes.cri.pod-annotations": true}}))
	for _, tc := range []struct {
		name, annotation, value string
		want                    func(netip.Addr) bool
	}{
		{"fixed", cni.AnnotationIPAddrs, `["10.244.7.7"]`, func(a netip.Addr) bool { return a == netip.MustParseAddr("10.244.7.7") }},
		{"pool-b", cni.AnnotationIPv4Pools, `["pool-b"]`, netip.MustParsePrefix("10.247.0.0/16").Contains},
	} {
		p := n.newPod("default", "annotated-"+tc.name, map[string]any{
			"io.kubernetes.cri.pod-annotations": map[string]string{tc.annotation: tc.value}})
		ip := podAddr(t, n.add(l, p), true)
		if !tc.want(ip) {
			t.Errorf("annotation %s=%s gave %s", tc.annotation, tc.value, ip)
		}
		if err := n.ping(ip); err != nil {
			t.Error(err)
		}
		n.del(l, p)
	}
	n.assertClean("after annotated pods")
}
