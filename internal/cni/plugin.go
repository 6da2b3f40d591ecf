package cni

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// SupportedVersions are the CNI spec versions both plugins speak.
var SupportedVersions = version.PluginSupports("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")

// commandTimeout bounds one plugin command (the runtime has its own too).
const commandTimeout = 90 * time.Second

// Plugin is the calico CNI plugin. Its zero value is usable; the fields let
// tests and cmd/calico wire the environment explicitly.
type Plugin struct {
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Stdout receives results (default os.Stdout); Stderr logs and a copy
	// of every error (default os.Stderr).
	Stdout, Stderr io.Writer

	// ipamOnly makes the plugin parse configs as calico-ipam does (set by
	// IPAMPlugin.Funcs).
	ipamOnly bool
}

// Funcs returns the plugin's commands for skel.PluginMainFuncs. Every
// error is also written to stderr in CNI error format, so it shows up in
// runtime logs that keep only stderr.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{
		Add: p.wrap(p.Add), Del: p.wrap(p.Del), Check: p.wrap(p.Check),
		Status: p.wrap(p.Status), GC: p.wrap(p.GC),
	}
}

func (p *Plugin) wrap(f func(*skel.CmdArgs) error) func(*skel.CmdArgs) error {
	return func(a *skel.CmdArgs) error {
		err := f(a)
		if err != nil {
			te := cniError(types.ErrInternal, "calico", err)
			if b, jerr := json.Marshal(te); jerr == nil {
				fmt.Fprintf(p.stderr(), "%s\n", b)
			}
			return te
		}
		return nil
	}
}

func (p *Plugin) getenv(k string) string {
	if p.Getenv != nil {
		return p.Getenv(k)
	}
	return os.Getenv(k)
}

func (p *Plugin) stdout() io.Writer {
	if p.Stdout != nil {
		return p.Stdout
	}
	return os.Stdout
}

func (p *Plugin) stderr() io.Writer {
	if p.Stderr != nil {
		return p.Stderr
	}
	return os.Stderr
}

// session is what every command starts from.
type session struct {
	conf   *NetConf
	w      *Workload
	log    *slog.Logger
	closeL func()
	node   string
	// kube is the Kubernetes API in Kubernetes datastore mode (set by open).
	kube *kubeAPI
}

// begin parses the config and works out the workload.
func (p *Plugin) begin(a *skel.CmdArgs, cmd string) (*session, error) {
	parse, plugin := ParseNetConf, "calico"
	if p.ipamOnly {
		parse, plugin = ParseIPAMNetConf, "calico-ipam"
	}
	conf, err := parse(a.StdinData)
	if err != nil {
		return nil, cniError(types.ErrInvalidNetworkConfig, "invalid network config", err)
	}
	log, closeL := NewLogger(conf, p.stderr(), "plugin", plugin, "cmd", cmd, "containerID", a.ContainerID, "network", conf.Name)
	node, err := conf.ResolveNodename(stateDir(p.getenv))
	if err != nil {
		closeL()
		return nil, cniError(types.ErrInvalidNetworkConfig, "cannot determine the node name", err)
	}
	s := &session{conf: conf, log: log, closeL: closeL, node: node}
	if cmd == "ADD" || cmd == "DEL" || cmd == "CHECK" {
		s.w, err = NewWorkload(conf, a.ContainerID, a.Netns, a.IfName, a.Args, node)
		if err != nil {
			closeL()
			return nil, cniError(types.ErrInvalidEnvironmentVariables, "invalid CNI arguments", err)
		}
		log = log.With("namespace", s.w.Namespace, "pod", s.w.Pod)
		s.log = log
	}
	return s, nil
}

// open connects to the datastore (and, in Kubernetes datastore mode, the
// Kubernetes API, kept in s.kube).
func (p *Plugin) open(ctx context.Context, s *session) (*client.Client, func() error, error) {
	c, kube, closer, err := openClient(ctx, s.conf, p.getenv)
	if err != nil {
		return nil, nil, cniError(types.ErrTryAgainLater, "datastore unreachable", err)
	}
	s.kube = kube
	return c, closer, nil
}

// kubePod reports whether the workload is a Kubernetes pod whose record
// lives in the Kubernetes API (Kubernetes datastore mode).
func (s *session) kubePod() bool {
	return s.kube != nil && s.w != nil && s.w.Orchestrator == OrchestratorK8s
}

// loadPod reads the pod's labels, annotations and service account from the
// Kubernetes API in Kubernetes datastore mode (a no-op otherwise).
func (s *session) loadPod(ctx context.Context) error {
	if !s.kubePod() {
		return nil
	}
	if err := s.kube.loadPod(ctx, s.w); err != nil {
		return cniError(types.ErrTryAgainLater, "reading the pod from the Kubernetes API failed", err)
	}
	return nil
}

// newIPAM returns IPAM over the client's datastore.
func newIPAM(c *client.Client, log *slog.Logger) *ipam.IPAM {
	return ipam.New(c.Backend(), ipam.Options{Logger: log})
}

// Add networks a container: addresses, veth, routes, WorkloadEndpoint.
func (p *Plugin) Add(a *skel.CmdArgs) (err error) {
	s, err := p.begin(a, "ADD")
	if err != nil {
		return err
	}
	defer s.closeL()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	mtu, err := s.conf.EffectiveMTU(stateDir(p.getenv))
	if err != nil {
		return cniError(types.ErrInvalidNetworkConfig, "cannot determine the MTU", err)
	}
	c, closeC, err := p.open(ctx, s)
	if err != nil {
		return err
	}
	defer closeC()
	if err = s.loadPod(ctx); err != nil {
		return err
	}

	// 1) Addresses.
	var addrs []netip.Addr
	var ipamResult *current.Result
	var release func()
	if s.conf.IPAM.Type == IPAMTypeCalico {
		m := newIPAM(c, s.log)
		addrs, err = assignAddrs(ctx, m, s.conf, s.w, s.log)
		if err != nil {
			return cniError(ipamErrorCode(err), "IPAM could not assign an address", err)
		}
		release = func() {
			if rerr := retry(ctx, rollbackTimeout, func(ctx context.Context) error {
				_, err := releaseHandle(ctx, m, s.w.HandleID())
				return err
			}); rerr != nil {
				s.log.Error("rollback: releasing the addresses failed; ipam GC will find them", "handle", s.w.HandleID(), "err", rerr)
			}
		}
	} else {
		r, derr := invoke.DelegateAdd(ctx, s.conf.IPAM.Type, a.StdinData, nil)
		if derr != nil {
			return cniError(types.ErrTryAgainLater, "IPAM plugin "+s.conf.IPAM.Type+" failed", derr)
		}
		if ipamResult, err = current.NewResultFromResult(r); err != nil {
			return cniError(types.ErrDecodingFailure, "IPAM plugin "+s.conf.IPAM.Type+" returned an unusable result", err)
		}
		for _, ip := range ipamResult.IPs {
			if ad, ok := netip.AddrFromSlice(ip.Address.IP); ok {
				addrs = append(addrs, ad.Unmap())
			}
		}
		release = func() {
			if derr := invoke.DelegateDel(context.WithoutCancel(ctx), s.conf.IPAM.Type, a.StdinData, nil); derr != nil {
				s.log.Error("rollback: IPAM plugin DEL failed", "ipam", s.conf.IPAM.Type, "err", derr)
			}
		}
	}
	hostVeth := s.w.HostVethName()
	pn := PodNetwork{NetNS: a.Netns, IfName: a.IfName, HostVeth: hostVeth, MTU: mtu, NumQueues: s.conf.NumQueues,
		AllowIPForwarding: s.conf.ContainerSettings.AllowIPForwarding, Addrs: addrs}
	// From here on, any failure removes what was made and releases the
	// addresses, so a failed ADD leaves nothing behind.
	madeVeth := false
	defer func() {
		if err == nil {
			return
		}
		s.log.Warn("ADD failed; rolling back", "err", err)
		if madeVeth {
			if terr := TeardownPod(a.Netns, a.IfName); terr != nil {
				s.log.Error("rollback: removing the pod interface failed", "err", terr)
			}
			if terr := DeleteHostVeth(hostVeth); terr != nil {
				s.log.Error("rollback: removing the host veth failed", "err", terr)
			}
		}
		release()
		s.log.Warn("ADD failed; rolled back")
	}()
	if err = testHook(p.getenv, "after-ipam"); err != nil {
		return err
	}

	// 2) The data path.
	madeVeth = true
	links, err := SetupPod(pn)
	if err != nil {
		code := ErrCodeDataplane
		if _, ok := err.(*NetNSError); ok {
			code = types.ErrInvalidNetNS
		}
		return cniError(code, "setting up the pod's network failed", err)
	}
	if err = testHook(p.getenv, "after-veth"); err != nil {
		return err
	}

	// 3) The WorkloadEndpoint: in Kubernetes datastore mode it is derived
	// from the Pod, so the pod gets its IP annotations instead.
	wep, err := s.w.WorkloadEndpoint(hostVeth, links.PodMAC, addrs)
	if err != nil {
		return cniError(types.ErrInvalidEnvironmentVariables, "cannot build the workload endpoint", err)
	}
	if s.kubePod() {
		if err = s.kube.setPodIPs(ctx, s.w, addrs); err != nil {
			return cniError(types.ErrTryAgainLater, "annotating the pod with its IPs failed", err)
		}
		s.log.Info("pod networked", "hostVeth", hostVeth, "addrs", addrs)
		return types.PrintResult(buildResult(hostVeth, a, links, addrs, ipamResult), s.conf.CNIVersion)
	}
	if s.w.Orchestrator == OrchestratorCNI {
		if err = ensureNetworkProfile(ctx, c, s.w.Network); err != nil {
			return cniError(types.ErrTryAgainLater, "writing the network's profile failed", err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if _, err = c.Apply(wctx, wep); err != nil {
		return cniError(types.ErrTryAgainLater, "writing workload endpoint "+wep.Namespace+"/"+wep.Name+" failed", err)
	}
	s.log.Info("pod networked", "hostVeth", hostVeth, "addrs", addrs, "wep", wep.Name)

	result := buildResult(hostVeth, a, links, addrs, ipamResult)
	return types.PrintResult(result, s.conf.CNIVersion)
}

// buildResult is the ADD result: the host veth, the pod interface and its
// addresses (as /32 and /128, the way they are configured).
func buildResult(hostVeth string, a *skel.CmdArgs, links *PodLinks, addrs []netip.Addr, fromIPAM *current.Result) *current.Result {
	r := &current.Result{CNIVersion: current.ImplementedSpecVersion}
	r.Interfaces = []*current.Interface{
		{Name: hostVeth, Mac: HostVethMAC.String()},
		{Name: a.IfName, Mac: links.PodMAC.String(), Sandbox: a.Netns},
	}
	podIf := 1
	for _, ad := range addrs {
		n := prefixNet(netip.PrefixFrom(ad, ad.BitLen()))
		r.IPs = append(r.IPs, &current.IPConfig{Interface: &podIf, Address: *n})
	}
	if fromIPAM != nil {
		r.DNS = fromIPAM.DNS
	}
	return r
}

// Del undoes Add. Everything already gone is fine: the netns, the veth, the
// endpoint and the addresses.
func (p *Plugin) Del(a *skel.CmdArgs) error {
	s, err := p.begin(a, "DEL")
	if err != nil {
		return err
	}
	defer s.closeL()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if err := TeardownPod(a.Netns, a.IfName); err != nil {
		return cniError(ErrCodeDataplane, "removing the pod interface failed", err)
	}
	c, closeC, err := p.open(ctx, s)
	if err != nil {
		return err
	}
	defer closeC()
	var deleted bool
	if s.kubePod() {
		deleted, err = s.kube.clearPodIPs(ctx, s.w)
	} else {
		deleted, err = deleteWEP(ctx, c, s.w)
	}
	if err != nil {
		return cniError(types.ErrTryAgainLater, "deleting the workload endpoint failed", err)
	}
	if deleted || s.w.Orchestrator == OrchestratorCNI {
		// The host end normally vanished with the pod end; a leftover one
		// (netns kept by another process) is ours only if the endpoint was.
		if err := DeleteHostVeth(s.w.HostVethName()); err != nil {
			return cniError(ErrCodeDataplane, "removing the host veth failed", err)
		}
	}
	if s.conf.IPAM.Type == IPAMTypeCalico {
		released, err := releaseHandle(ctx, newIPAM(c, s.log), s.w.HandleID())
		if err != nil {
			return cniError(types.ErrTryAgainLater, "releasing the pod's addresses failed", err)
		}
		s.log.Info("pod removed", "released", released, "endpointDeleted", deleted)
	} else if err := invoke.DelegateDel(ctx, s.conf.IPAM.Type, a.StdinData, nil); err != nil {
		return cniError(types.ErrTryAgainLater, "IPAM plugin "+s.conf.IPAM.Type+" DEL failed", err)
	}
	return nil
}

// Check verifies the pod's networking against the previous result, the
// kernel, IPAM and the datastore, and fails listing every difference.
func (p *Plugin) Check(a *skel.CmdArgs) error {
	s, err := p.begin(a, "CHECK")
	if err != nil {
		return err
	}
	defer s.closeL()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if len(s.conf.PrevResult) == 0 {
		return cniError(types.ErrInvalidNetworkConfig, "CHECK needs prevResult", fmt.Errorf("the runtime passed no prevResult; CHECK compares against the result of ADD"))
	}
	prev, err := parsePrevResult(s.conf)
	if err != nil {
		return cniError(types.ErrDecodingFailure, "cannot read prevResult", err)
	}
	var addrs []netip.Addr
	for _, ip := range prev.IPs {
		if ad, ok := netip.AddrFromSlice(ip.Address.IP); ok {
			addrs = append(addrs, ad.Unmap())
		}
	}
	var podMAC net.HardwareAddr
	for _, i := range prev.Interfaces {
		if i.Sandbox != "" && i.Name == a.IfName {
			podMAC, _ = net.ParseMAC(i.Mac)
		}
	}
	mtu, err := s.conf.EffectiveMTU(stateDir(p.getenv))
	if err != nil {
		return cniError(types.ErrInvalidNetworkConfig, "cannot determine the MTU", err)
	}
	hostVeth := s.w.HostVethName()
	problems := CheckPod(PodNetwork{NetNS: a.Netns, IfName: a.IfName, HostVeth: hostVeth, MTU: mtu, Addrs: addrs})
	c, closeC, err := p.open(ctx, s)
	if err != nil {
		return err
	}
	defer closeC()
	if s.conf.IPAM.Type == IPAMTypeCalico {
		held, err := newIPAM(c, s.log).IPsByHandle(ctx, s.w.HandleID())
		if err != nil {
			problems = append(problems, fmt.Sprintf("IPAM handle %s: %v", s.w.HandleID(), err))
		}
		for _, ad := range addrs {
			if !containsAddr(held, ad) {
				problems = append(problems, fmt.Sprintf("address %s is not allocated to IPAM handle %s", ad, s.w.HandleID()))
			}
		}
	}
	want, err := s.w.WorkloadEndpoint(hostVeth, podMAC, addrs)
	switch {
	case s.kubePod():
		ann, aerr := s.kube.podAnnotations(ctx, s.w)
		if aerr != nil {
			problems = append(problems, aerr.Error())
		} else {
			problems = append(problems, checkPodIPs(ann, s.w, addrs)...)
		}
	case err != nil:
		problems = append(problems, err.Error())
	default:
		if podMAC == nil {
			want.Spec.MAC = ""
		}
		problems = append(problems, checkWEP(ctx, c, want)...)
	}
	if len(problems) > 0 {
		return &types.Error{Code: ErrCodeCheckFailed, Msg: fmt.Sprintf("calico CHECK: %d problem(s) with container %s", len(problems), a.ContainerID), Details: joinLines(problems)}
	}
	return nil
}

// Status reports whether ADD can work: the datastore must answer.
func (p *Plugin) Status(a *skel.CmdArgs) error {
	s, err := p.begin(a, "STATUS")
	if err != nil {
		return err
	}
	defer s.closeL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, closeC, err := openClient(ctx, s.conf, p.getenv)
	if err != nil {
		return cniError(ErrCodeStatusUnavailable, "calico: the datastore does not answer, so pods cannot be networked", err)
	}
	defer closeC()
	if s.conf.IPAM.Type == IPAMTypeCalico {
		if _, err := newIPAM(c, s.log).GetIPAMConfig(ctx); err != nil {
			return cniError(ErrCodeStatusUnavailable, "calico: reading IPAM configuration failed", err)
		}
	}
	return nil
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "; "
		}
		out += l
	}
	return out
}

// parsePrevResult decodes prevResult in whatever version it came, as the
// current result type.
func parsePrevResult(conf *NetConf) (*current.Result, error) {
	var probe struct {
		CNIVersion string `json:"cniVersion"`
	}
	_ = jsonUnmarshal(conf.PrevResult, &probe)
	v := probe.CNIVersion
	if v == "" {
		v = conf.CNIVersion
	}
	r, err := version.NewResult(v, conf.PrevResult)
	if err != nil {
		return nil, err
	}
	return current.NewResultFromResult(r)
}
