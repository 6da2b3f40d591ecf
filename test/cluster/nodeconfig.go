package cluster

import (
	"fmt"
	"path/filepath"
)

// PauseImage is the sandbox image name containerd is configured with; the
// harness imports its own build under this name.
const PauseImage = "registry.k8s.io/pause:3.10"

// nodeDirs are one node's private directories under the cluster's.
type nodeDirs struct {
	root string
}

func (d nodeDirs) containerdRoot() string  { return filepath.Join(d.root, "containerd", "root") }
func (d nodeDirs) containerdState() string { return filepath.Join(d.root, "containerd", "state") }
func (d nodeDirs) containerdSock() string {
	return filepath.Join(d.root, "containerd", "containerd.sock")
}
func (d nodeDirs) containerdConf() string { return filepath.Join(d.root, "containerd", "config.toml") }
func (d nodeDirs) cniBin() string         { return filepath.Join(d.root, "cni", "bin") }
func (d nodeDirs) cniConf() string        { return filepath.Join(d.root, "cni", "net.d") }
func (d nodeDirs) kubeletRoot() string    { return filepath.Join(d.root, "kubelet") }
func (d nodeDirs) kubeletConf() string    { return filepath.Join(d.root, "kubelet-config.yaml") }
func (d nodeDirs) kubeconfig() string     { return filepath.Join(d.root, "kubelet.kubeconfig") }
func (d nodeDirs) podLogs() string        { return filepath.Join(d.root, "pod-logs") }
func (d nodeDirs) calicoState() string    { return filepath.Join(d.root, "var-lib-calico") }
func (d nodeDirs) calicoRun() string      { return filepath.Join(d.root, "var-run-calico") }
func (d nodeDirs) serviceAccount() string { return filepath.Join(d.root, "serviceaccount") }

// containerdConfig is containerd 1.6's config for one node: its own root,
// state and socket; the CRI plugin with the local pause image,
// restrict_oom_score_adj (lowering oom_score_adj needs CAP_SYS_RESOURCE,
// which this machine's root lacks), runc with cgroupfs, and the node's CNI
// directories.
func containerdConfig(d nodeDirs) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
    max_conf_num = 1
`, d.containerdRoot(), d.containerdState(), d.containerdSock(), d.containerdSock()+".ttrpc", PauseImage, d.cniBin(), d.cniConf())
}

// kubeletConfig is the KubeletConfiguration for one node: cgroupfs with a
// cgroup root of its own, no swap or local-storage checks, anonymous
// access with AlwaysAllow (the API server reaches it for exec and logs),
// image GC and disk eviction off (the images cannot be pulled again).
func kubeletConfig(d nodeDirs, nodeIP, cgroupRoot string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: %[1]s
cgroupsPerQOS: true
enforceNodeAllocatable: ["pods"]
failSwapOn: false
localStorageCapacityIsolation: false
containerRuntimeEndpoint: unix://%[2]s
address: %[3]s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
podLogsDir: %[4]s
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
serializeImagePulls: false
rotateCertificates: false
registerNode: true
resolvConf: ""
clusterDomain: cluster.local
maxPods: 110
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
fileCheckFrequency: 10s
shutdownGracePeriod: 0s
`, cgroupRoot, d.containerdSock(), nodeIP, d.podLogs())
}

// cniNetworkConfig is the conflist template install-cni fills in: Calico's
// calico.yaml cni_network_config, with the CNI log kept in the node's
// directory. The install manifests will provide it once they exist.
func cniNetworkConfig(d nodeDirs) string {
	return fmt.Sprintf(`{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "log_level": "info",
      "log_file_path": %q,
      "datastore_type": "kubernetes",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "mtu": __CNI_MTU__,
      "ipam": {"type": "calico-ipam"},
      "policy": {"type": "k8s"},
      "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}
    },
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}`, filepath.Join(d.root, "cni.log"))
}
