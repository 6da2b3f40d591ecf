package cni_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/cni"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// Debian's containernetworking-plugins (1.1.x) speak spec versions up to
// 1.0.0, so the portmap + bandwidth chain runs for those; 1.1.0 runs the
// calico plugin alone (and adds GC and STATUS).
var specVersions = []struct {
	version string
	chained bool
}{{"0.3.0", true}, {"0.3.1", true}, {"0.4.0", true}, {"1.0.0", true}, {"1.1.0", false}}

func TestPrivilegedCNI_EverySpecVersionBuildsCalicosDataPath(t *testing.T) {
	n := newNode(t)
	cli := n.cli

	for i, sv := range specVersions {
		t.Run(sv.version, func(t *testing.T) {
			n.t = t
			plugins := []map[string]any{n.calicoConf(map[string]any{
				"args": map[string]any{"cni": map[string]any{"labels": []map[string]string{{"key": "app", "value": "web"}}}},
			})}
			caps := map[string]any{}
			hostPort := 8080 + i
			if sv.chained {
				plugins = append(plugins,
					map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
					map[string]any{"type": "bandwidth", "capabilities": map[string]bool{"bandwidth": true}})
				caps["portMappings"] = []map[string]any{{"hostPort": hostPort, "containerPort": 80, "protocol": "tcp"}}
				caps["bandwidth"] = map[string]any{"ingressRate": 8000000, "ingressBurst": 80000, "egressRate": 8000000, "egressBurst": 80000}
			}
			l := n.confList(sv.version, plugins...)
			p := n.newPod("shop", "web-"+strings.ReplaceAll(sv.version, ".", ""), caps)
			r := n.add(l, p)
			ip := podAddr(t, r, true)
			if !netip.MustParsePrefix("10.244.0.0/16").Contains(ip) {
				t.Fatalf("pod address %s is outside the pool 10.244.0.0/16", ip)
			}
			veth := cni.VethNameForPod(p.namespace, p.name)
			assertDataPath(t, n, p, veth, ip)
			if err := n.ping(ip); err != nil {
				t.Fatal(err)
			}
			assertWEP(t, n, p, veth, ip)

			if sv.chained {
				if q := n.host.IP(t, "-o", "link", "show"); !strings.Contains(q, "bwp") {
					t.Errorf("bandwidth plugin made no ifb device for ingress shaping:\n%s", q)
				}
				if q := testutil.MustRun(t, "ip", "netns", "exec", n.host.Name, "tc", "qdisc", "show", "dev", veth); !strings.Contains(q, "tbf") {
					t.Errorf("no tbf qdisc on %s:\n%s", veth, q)
				}
				assertHostPort(t, p, cli, fmt.Sprintf("198.18.0.1:%d", hostPort))
			}
			if sv.version >= "0.4.0" {
				// Debian's portmap 1.1.1 CHECK looks for its DNAT chain in
				// ip6tables too and fails for IPv4-only pods (fixed upstream
				// later), so CHECK runs the chain without it.
				cl := l
				if sv.chained {
					cl = n.confList(sv.version, plugins[0], plugins[2])
				}
				if err := n.cni.CheckNetworkList(context.Background(), cl, p.rt); err != nil {
					t.Fatalf("CHECK of a healthy pod failed: %v", err)
				}
			}
			n.del(l, p)
			n.assertClean("after DEL")
			// DEL is idempotent: the netns, veth, endpoint and addresses are gone.
			n.del(l, p)
			p.ns.IP(t, "link", "show") // the pod namespace itself is the runtime's
		})
	}
}

// assertDataPath checks what `ip addr` / `ip route` show in the pod and
// on the host against Calico's data path.
func assertDataPath(t *testing.T, n *node, p *pod, veth string, ip netip.Addr) {
	t.Helper()
	addr := p.ns.IP(t, "-4", "addr", "show", "dev", "eth0")
	if !strings.Contains(addr, "inet "+ip.String()+"/32 ") || !strings.Contains(addr, "mtu 1450") {
		t.Errorf("pod eth0 should have %s/32 and mtu 1450:\n%s", ip, addr)
	}
	routes := p.ns.IP(t, "-4", "route", "show")
	for _, want := range []string{"default via 169.254.1.1 dev eth0", "169.254.1.1 dev eth0 scope link"} {
		if !strings.Contains(routes, want) {
			t.Errorf("pod routes lack %q:\n%s", want, routes)
		}
	}
	link := n.host.IP(t, "link", "show", "dev", veth)
	if !strings.Contains(link, "link/ether ee:ee:ee:ee:ee:ee") || !strings.Contains(link, "mtu 1450") || !strings.Contains(link, "UP") {
		t.Errorf("host veth %s should be up with MAC ee:ee:ee:ee:ee:ee and mtu 1450:\n%s", veth, link)
	}
	hroutes := n.host.IP(t, "route", "show", "dev", veth)
	if !strings.Contains(hroutes, ip.String()+" scope link") {
		t.Errorf("host lacks route %s dev %s scope link:\n%s", ip, veth, hroutes)
	}
	for sysctl, want := range map[string]string{"proxy_arp": "1", "route_localnet": "1", "forwarding": "1"} {
		got := strings.TrimSpace(n.host.Exec(t, "cat", "/proc/sys/net/ipv4/conf/"+veth+"/"+sysctl))
		if got != want {
			t.Errorf("net.ipv4.conf.%s.%s = %s; want %s", veth, sysctl, got, want)
		}
	}
}

func assertWEP(t *testing.T, n *node, p *pod, veth string, ip netip.Addr) {
	t.Helper()
	weps, _, err := client.List[*v3.WorkloadEndpoint](context.Background(), n.client, p.namespace)
	if err != nil {
		t.Fatal(err)
	}
	if len(weps) != 1 {
		t.Fatalf("%d workload endpoints in namespace %s; want 1", len(weps), p.namespace)
	}
	w := weps[0]
	if want := "node--1-k8s-" + strings.ReplaceAll(p.name, "-", "--") + "-eth0"; w.Name != want {
		t.Errorf("WEP name %q; want %q", w.Name, want)
	}
	s := w.Spec
	if s.Pod != p.name || s.ContainerID != p.rt.ContainerID || s.InterfaceName != veth || s.Node != "node-1" ||
		s.Endpoint != "eth0" || len(s.IPNetworks) != 1 || s.IPNetworks[0] != ip.String()+"/32" || s.MAC == "" || s.Orchestrator != "k8s" {
		t.Errorf("WEP spec wrong: %+v", s)
	}
	if w.Labels["app"] != "web" || w.Labels[cni.LabelNamespace] != p.namespace || w.Labels[cni.LabelOrchestrator] != "k8s" {
		t.Errorf("WEP labels %v; want app=web plus Calico's namespace/orchestrator labels", w.Labels)
	}
	if len(s.Profiles) != 1 || s.Profiles[0] != "kns."+p.namespace {
		t.Errorf("WEP profiles %v; want [kns.%s]", s.Profiles, p.namespace)
	}
}

// assertHostPort serves on port 80 in the pod and connects to hostPort from
// the client namespace.
func assertHostPort(t *testing.T, p *pod, cli *testutil.Netns, target string) {
	t.Helper()
	var ln net.Listener
	if err := ns.WithNetNSPath(p.path, func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp", ":80")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hello from " + p.name))
			c.Close()
		}
	}()
	var got []byte
	err := ns.WithNetNSPath("/run/netns/"+cli.Name, func(ns.NetNS) error {
		c, err := net.DialTimeout("tcp", target, 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		got, err = io.ReadAll(c)
		return err
	})
	if err != nil || string(got) != "hello from "+p.name {
		t.Fatalf("hostPort %s did not reach the pod: %v (got %q)", target, err, got)
	}
}
