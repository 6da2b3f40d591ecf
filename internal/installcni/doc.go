// Package installcni is `calico-node install-cni`, the init step of the
// calico-node DaemonSet that puts the CNI plugin on the host, as Calico's
// install-cni does, and the refresher that keeps the plugin's credentials
// fresh while calico-node runs, as Calico's calico-node does:
//
//	image /opt/cni/bin/{calico,calico-ipam,…} ──copy (atomic rename)──► /host/opt/cni/bin/
//	pod's service account ──TokenRequest──► token of <ns>/calico-cni-plugin (24 h)
//	    token + CA ──► /host/etc/cni/net.d/calico-kubeconfig   (mode 0600, atomic rename)
//	CNI_NETWORK_CONFIG template ──__PLACEHOLDERS__ filled, JSON checked──► /host/etc/cni/net.d/10-calico.conflist
//
//	calico-node: Refresher ──new token at start, then every ¼–½ of its remaining lifetime──► calico-kubeconfig
//
// When the CNI service account does not exist (manifests older than
// Calico v3.26), the pod's own token is written instead, with a warning.
//
// Configuration comes from the environment with Calico's names
// (config.go); the container-side paths are fields (flags of the
// subcommand) so that tests and the cluster harness can point them at
// temporary directories.
//
// Imports: the standard library and client-go (TokenRequest, and
// clientcmd to write the kubeconfig). Nothing else of Tricolor: it runs
// before anything else on the node and needs no datastore.
package installcni
