// Command cni measures CNI ADD and DEL latency of the calico plugin (with
// calico-ipam against an embedded etcd, process exec included) against
// Debian's ptp + host-local doing the equivalent work (veth, /32 routes,
// address from a local file store), in the same run, through libcni as a
// container runtime drives them. Everything happens in network namespaces
// it creates; it needs root.
//
//	go run ./bench/cni -pods 40 -rounds 3 -out /tmp/cni.md
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

const debianCNIDir = "/usr/lib/cni"

func main() {
	pods := flag.Int("pods", 40, "pods per round")
	rounds := flag.Int("rounds", 3, "rounds (each: ADD all pods, DEL all pods, per plugin, alternating)")
	out := flag.String("out", "", "write a markdown fragment here")
	flag.Parse()
	if os.Geteuid() != 0 {
		log.Fatal("bench/cni needs root: it creates network namespaces")
	}
	if _, err := os.Stat(filepath.Join(debianCNIDir, "ptp")); err != nil {
		log.Fatalf("Debian's CNI plugins are missing (%v): apt-get install containernetworking-plugins", err)
	}
	r, err := run(*pods, *rounds)
	if err != nil {
		log.Fatal(err)
	}
	md := r.markdown(*pods, *rounds)
	fmt.Print(md)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

type samples struct{ add, del []time.Duration }

type results struct {
	calico, ptp samples
}

func run(pods, rounds int) (*results, error) {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "tricolor-bench-cni-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "calico"), "github.com/tricolor-net/tricolor/cmd/calico").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build cmd/calico: %v\n%s", err, out)
	}
	if err := os.Link(filepath.Join(bin, "calico"), filepath.Join(bin, "calico-ipam")); err != nil {
		return nil, err
	}

	emb, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(tmp, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	ep := emb.Endpoints()[0]
	c, closeC, err := client.Open(ctx, &client.Config{CalicoAPIConfigSpec: client.CalicoAPIConfigSpec{
		DatastoreType: client.DatastoreEtcdV3, EtcdConfig: client.EtcdConfig{EtcdEndpoints: ep}}, Source: "bench"})
	if err != nil {
		return nil, err
	}
	defer closeC()
	pool := v3.NewIPPool()
	pool.Name, pool.Spec.CIDR = "bench-pool", "10.244.0.0/16"
	if _, err := c.Create(ctx, pool); err != nil {
		return nil, err
	}

	host, delHost, err := addNetns("bhost")
	if err != nil {
		return nil, err
	}
	defer delHost()
	hostPath := "/run/netns/" + host
	inNS, stopFwd, err := testutil.StartForwardIntoNetns(hostPath, strings.TrimPrefix(ep, "http://"))
	if err != nil {
		return nil, err
	}
	defer stopFwd()

	rt := libcni.NewCNIConfigWithCacheDir([]string{bin, debianCNIDir}, filepath.Join(tmp, "cache"), &nsExec{hostNS: hostPath})
	calico, err := confList(map[string]any{"type": "calico", "log_level": "error", "log_file_path": filepath.Join(tmp, "cni.log"),
		"datastore_type": "etcdv3", "etcd_endpoints": "http://" + inNS, "nodename": "bench-node", "mtu": 1450,
		"ipam": map[string]any{"type": "calico-ipam"}})
	if err != nil {
		return nil, err
	}
	ptp, err := confList(map[string]any{"type": "ptp", "mtu": 1450, "ipMasq": false,
		"ipam": map[string]any{"type": "host-local", "dataDir": filepath.Join(tmp, "host-local"),
			"ranges": [][]map[string]string{{{"subnet": "10.246.0.0/16"}}}}})
	if err != nil {
		return nil, err
	}

	res := &results{}
	for round := 0; round < rounds; round++ {
		// Alternate which plugin goes first so drift hits both alike.
		order := []struct {
			l *libcni.NetworkConfigList
			s *samples
		}{{calico, &res.calico}, {ptp, &res.ptp}}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, o := range order {
			if err := oneRound(ctx, rt, o.l, pods, o.s); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// oneRound ADDs pods (one at a time, as a kubelet starting pods would) then
// DELs them, timing each call.
func oneRound(ctx context.Context, rt *libcni.CNIConfig, l *libcni.NetworkConfigList, pods int, s *samples) error {
	type pod struct {
		rc  *libcni.RuntimeConf
		del func()
	}
	ps := make([]pod, pods)
	defer func() {
		for _, p := range ps {
			if p.del != nil {
				p.del()
			}
		}
	}()
	for i := range ps {
		name, del, err := addNetns("bpod")
		if err != nil {
			return err
		}
		id := strings.ReplaceAll(name, "-", "") + fmt.Sprintf("%04d", i)
		ps[i] = pod{del: del, rc: &libcni.RuntimeConf{ContainerID: id, NetNS: "/run/netns/" + name, IfName: "eth0",
			Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "bench"}, {"K8S_POD_NAME", fmt.Sprintf("pod-%s", id)}}}}
	}
	for _, p := range ps {
		t0 := time.Now()
		if _, err := rt.AddNetworkList(ctx, l, p.rc); err != nil {
			return fmt.Errorf("%s ADD: %w", l.Plugins[0].Network.Type, err)
		}
		s.add = append(s.add, time.Since(t0))
	}
	for _, p := range ps {
		t0 := time.Now()
		if err := rt.DelNetworkList(ctx, l, p.rc); err != nil {
			return fmt.Errorf("%s DEL: %w", l.Plugins[0].Network.Type, err)
		}
		s.del = append(s.del, time.Since(t0))
	}
	return nil
}

func confList(plugin map[string]any) (*libcni.NetworkConfigList, error) {
	b, err := json.Marshal(map[string]any{"cniVersion": "1.0.0", "name": "k8s-pod-network", "plugins": []any{plugin}})
	if err != nil {
		return nil, err
	}
	return libcni.NetworkConfFromBytes(b)
}

// addNetns creates a named network namespace and returns its deleter.
func addNetns(tag string) (string, func(), error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "tc-" + tag + "-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	del := func() { _ = exec.Command("ip", "netns", "del", name).Run() }
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		del()
		return "", nil, fmt.Errorf("set lo up in %s: %v: %s", name, err, out)
	}
	return name, del, nil
}

// nsExec runs plugins with the bench host namespace as their namespace
// (the exec happens on an OS thread that entered it).
type nsExec struct{ hostNS string }

func (e *nsExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := ns.WithNetNSPath(e.hostNS, func(ns.NetNS) error {
		c := exec.CommandContext(ctx, pluginPath)
		c.Env, c.Stdin, c.Stdout, c.Stderr = environ, bytes.NewReader(stdin), &stdout, &stderr
		return c.Run()
	})
	if err != nil {
		var te types.Error
		if json.Unmarshal(stdout.Bytes(), &te) == nil && te.Code != 0 {
			return nil, &te
		}
		return nil, fmt.Errorf("%s: %v: %s", filepath.Base(pluginPath), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (e *nsExec) FindInPath(plugin string, paths []string) (string, error) {
	return (&invoke.RawExec{}).FindInPath(plugin, paths)
}

func (e *nsExec) Decode(b []byte) (version.PluginInfo, error) {
	return (&version.PluginDecoder{}).Decode(b)
}

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := int(p*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r *results) markdown(pods, rounds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d pods × %d rounds per plugin, one call at a time, through libcni with process exec (cniVersion 1.0.0), in a test network namespace; %d cores.\n", pods, rounds, runtime.NumCPU())
	fmt.Fprintf(&b, "calico uses calico-ipam in-process against an embedded etcd (fsync off); the baseline is Debian's ptp + host-local (veth, /32 routes, file-backed IPAM).\n\n")
	b.WriteString("| Plugin | ADD p50 | ADD p99 | DEL p50 | DEL p99 | ADD p50 ratio | DEL p50 ratio |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, s samples) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2f | %.2f |\n", name, ms(pct(s.add, .5)), ms(pct(s.add, .99)), ms(pct(s.del, .5)), ms(pct(s.del, .99)),
			float64(pct(s.add, .5))/float64(pct(r.ptp.add, .5)), float64(pct(s.del, .5))/float64(pct(r.ptp.del, .5)))
	}
	row("baseline: ptp + host-local", r.ptp)
	row("calico + calico-ipam (Tricolor)", r.calico)
	return b.String()
}
