package lab

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// NetworkName is the CNI network name, Calico's usual one (the IPAM handle
// is <NetworkName>.<containerID>).
const NetworkName = "k8s-pod-network"

// cniVersion is the spec version the lab's runtime speaks.
const cniVersion = "1.0.0"

// AddPod creates a pod: its namespace, then CNI ADD through libcni with
// the calico plugin running inside the node's namespace, as kubelet and
// containerd would. The pod's labels reach the WorkloadEndpoint through
// args.cni.labels. The namespace's profile kns.<namespace> is created
// first when missing (allow all, as Calico's Kubernetes profiles), so
// policy enforcement, once Felix runs, starts from Kubernetes' default.
func (l *Lab) AddPod(ctx context.Context, spec PodSpec) (*Pod, error) {
	if spec.Namespace == "" {
		spec.Namespace = "default"
	}
	unlock, err := l.reload()
	if err != nil {
		return nil, err
	}
	defer unlock()
	nodes := map[string]bool{}
	for _, n := range l.st.Topology.Nodes {
		nodes[n.Name] = true
	}
	if err := spec.validate(nodes); err != nil {
		return nil, err
	}
	for _, p := range l.st.Pods {
		if p.Key() == spec.Namespace+"/"+spec.Name {
			return nil, fmt.Errorf("pod %s already exists on node %s; delete it first (`calico-lab pod del %s`)", p.Key(), p.Node, p.Key())
		}
	}
	if err := l.ensureNamespaceProfile(ctx, spec.Namespace); err != nil {
		return nil, err
	}
	pod := Pod{Name: spec.Name, Namespace: spec.Namespace, Node: spec.Node, Labels: spec.Labels,
		Netns: PodNetns(l.st.RunID, spec.Namespace, spec.Name), ContainerID: newContainerID()}
	if err := addNetns(ctx, pod.Netns); err != nil {
		return nil, fmt.Errorf("pod %s: %w", pod.Key(), err)
	}
	l.st.Namespaces = append(l.st.Namespaces, pod.Netns)
	if err := l.st.save(); err != nil {
		return nil, err
	}
	cni, list, rt, err := l.cniFor(pod)
	if err != nil {
		return nil, err
	}
	res, err := cni.AddNetworkList(ctx, list, rt)
	if err != nil {
		// Nothing of the pod is kept: the plugin rolled back its part.
		_, _ = ipCmd(context.Background(), "netns", "del", pod.Netns)
		l.st.Namespaces = without(l.st.Namespaces, pod.Netns)
		_ = l.st.save()
		return nil, fmt.Errorf("CNI ADD for pod %s on node %s: %w (plugin log: %s)", pod.Key(), pod.Node, err, l.cniLog())
	}
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("pod %s: CNI result: %w", pod.Key(), err)
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			pod.IP = cmp.Or(pod.IP, ip.Address.IP.String())
		} else {
			pod.IP6 = cmp.Or(pod.IP6, ip.Address.IP.String())
		}
	}
	for _, iface := range r.Interfaces {
		if iface.Sandbox == "" {
			pod.HostIface = iface.Name
		}
	}
	l.st.Pods = append(l.st.Pods, pod)
	sort.Slice(l.st.Pods, func(i, j int) bool { return l.st.Pods[i].Key() < l.st.Pods[j].Key() })
	if err := l.st.save(); err != nil {
		return nil, err
	}
	l.progress("pod %s on %s: %s", pod.Key(), pod.Node, strings.TrimSpace(pod.IP+" "+pod.IP6))
	return &pod, nil
}

// DelPod runs CNI DEL for a pod ("name" or "namespace/name") and removes
// its namespace.
func (l *Lab) DelPod(ctx context.Context, ref string) error {
	unlock, err := l.reload()
	if err != nil {
		return err
	}
	defer unlock()
	p, err := l.st.findPod(ref)
	if err != nil {
		return err
	}
	pod := *p
	cni, list, rt, err := l.cniFor(pod)
	if err != nil {
		return err
	}
	if err := cni.DelNetworkList(ctx, list, rt); err != nil {
		return fmt.Errorf("CNI DEL for pod %s on node %s: %w (plugin log: %s)", pod.Key(), pod.Node, err, l.cniLog())
	}
	if netnsExists(pod.Netns) {
		if _, err := ipCmd(ctx, "netns", "del", pod.Netns); err != nil {
			return err
		}
	}
	l.st.Namespaces = without(l.st.Namespaces, pod.Netns)
	var pods []Pod
	for _, q := range l.st.Pods {
		if q.Key() != pod.Key() {
			pods = append(pods, q)
		}
	}
	l.st.Pods = pods
	return l.st.save()
}

// Pods returns the lab's pods, sorted by namespace/name.
func (l *Lab) Pods() []Pod {
	if _, err := os.Stat(filepath.Join(l.st.Dir, StateFile)); err == nil {
		if st, err := LoadState(l.st.Dir); err == nil {
			l.st = st
		}
	}
	return append([]Pod(nil), l.st.Pods...)
}

// Pod returns one pod by "name" or "namespace/name".
func (l *Lab) Pod(ref string) (Pod, error) {
	l.Pods()
	p, err := l.st.findPod(ref)
	if err != nil {
		return Pod{}, err
	}
	return *p, nil
}

// cniFor builds the libcni runtime for a pod: the network list (calico with
// calico-ipam, the datastore on the fabric address, the pod's labels), the
// RuntimeConf a Kubernetes runtime passes, and an executor that runs the
// plugin inside the pod's node namespace.
func (l *Lab) cniFor(pod Pod) (*libcni.CNIConfig, *libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	binDir, err := l.cniBinDir()
	if err != nil {
		return nil, nil, nil, err
	}
	keys := make([]string, 0, len(pod.Labels))
	for k := range pod.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	labels := []map[string]string{}
	for _, k := range keys {
		labels = append(labels, map[string]string{"key": k, "value": pod.Labels[k]})
	}
	stateDir := l.nodeStateDir(pod.Node)
	ipam := map[string]any{"type": "calico-ipam"}
	if l.st.Topology.IPv6 {
		// Dual stack, as a Calico user configures it: both families
		// from calico-ipam (assign_ipv4 is already "true" by default).
		ipam["assign_ipv4"], ipam["assign_ipv6"] = "true", "true"
	}
	plugin := map[string]any{
		"type":           "calico",
		"log_level":      "info",
		"log_file_path":  l.cniLog(),
		"datastore_type": "etcdv3",
		"etcd_endpoints": EtcdEndpoint(),
		"nodename_file":  filepath.Join(stateDir, "nodename"),
		"ipam":           ipam,
		"args":           map[string]any{"cni": map[string]any{"labels": labels}},
	}
	b, err := json.Marshal(map[string]any{"cniVersion": cniVersion, "name": NetworkName, "plugins": []any{plugin}})
	if err != nil {
		return nil, nil, nil, err
	}
	list, err := libcni.NetworkConfFromBytes(b)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("CNI network config: %w", err)
	}
	rt := &libcni.RuntimeConf{
		ContainerID: pod.ContainerID, NetNS: NetnsPath(pod.Netns), IfName: "eth0",
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", pod.Namespace}, {"K8S_POD_NAME", pod.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", pod.ContainerID}},
	}
	exe := &netnsExec{netns: NetnsPath(NodeNetns(l.st.RunID, pod.Node)),
		env: []string{"TRICOLOR_CALICO_STATE_DIR=" + stateDir, EnvRunID + "=" + l.st.RunID}}
	cni := libcni.NewCNIConfigWithCacheDir([]string{binDir}, filepath.Join(l.st.Dir, "cni-cache"), exe)
	return cni, list, rt, nil
}

// cniLog is the plugin's log file.
func (l *Lab) cniLog() string { return filepath.Join(l.st.Dir, "logs", "cni.log") }

// cniBinDir is a directory holding the plugin as calico and calico-ipam
// (symlinks to the configured binary), which is how libcni finds plugins.
func (l *Lab) cniBinDir() (string, error) {
	dir := filepath.Join(l.st.Dir, "cni-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{"calico", "calico-ipam"} {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Symlink(l.st.Bins.CNI, p); err != nil && !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("install CNI plugin link %s: %w", p, err)
		}
	}
	return dir, nil
}

// ensureNamespaceProfile creates the Profile kns.<namespace> when missing:
// allow all ingress and egress, and the namespace's name label
// (pcns.projectcalico.org/name), as Calico derives from a Kubernetes
// namespace.
func (l *Lab) ensureNamespaceProfile(ctx context.Context, namespace string) error {
	c, closeC, err := l.Client(ctx)
	if err != nil {
		return err
	}
	defer closeC()
	prof := v3.NewProfile()
	prof.Name = "kns." + namespace
	prof.Spec.Ingress = []v3.Rule{{Action: v3.Allow}}
	prof.Spec.Egress = []v3.Rule{{Action: v3.Allow}}
	prof.Spec.LabelsToApply = map[string]string{"pcns.projectcalico.org/name": namespace}
	if _, err := c.Create(ctx, prof); err != nil && !errors.Is(err, datastore.ErrAlreadyExists) {
		return fmt.Errorf("create profile %s for namespace %s: %w", prof.Name, namespace, err)
	}
	return nil
}

// netnsExec runs each plugin inside the node's namespace: the exec happens
// on an OS thread that entered it, and a child process inherits its
// creating thread's namespaces.
type netnsExec struct {
	netns string
	env   []string
	raw   invoke.RawExec
}

// ExecPlugin implements invoke.Exec.
func (e *netnsExec) ExecPlugin(ctx context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := ns.WithNetNSPath(e.netns, func(ns.NetNS) error {
		c := exec.CommandContext(ctx, pluginPath)
		c.Env, c.Stdin, c.Stdout, c.Stderr = append(environ, e.env...), bytes.NewReader(stdin), &stdout, &stderr
		return c.Run()
	})
	if err != nil {
		var te types.Error
		if json.Unmarshal(stdout.Bytes(), &te) == nil && te.Code != 0 {
			return nil, &te
		}
		return nil, fmt.Errorf("%s: %v (stderr %q)", filepath.Base(pluginPath), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// FindInPath implements invoke.Exec.
func (e *netnsExec) FindInPath(plugin string, paths []string) (string, error) {
	return e.raw.FindInPath(plugin, paths)
}

// Decode implements invoke.Exec.
func (e *netnsExec) Decode(b []byte) (version.PluginInfo, error) {
	return (&version.PluginDecoder{}).Decode(b)
}

var _ invoke.Exec = (*netnsExec)(nil)

// newContainerID is a random 64-hex-digit sandbox ID, as containerd's.
func newContainerID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// without returns list without s.
func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
