// Package installcni is `calico-node install-cni`, the init step of the
// calico-node DaemonSet that puts the CNI plugin on the host, as Calico's
// install-cni does:
//
//	image /opt/cni/bin/{calico,calico-ipam,…} ──copy (atomic rename)──► /host/opt/cni/bin/
//	service account token + CA ──► /host/etc/cni/net.d/calico-kubeconfig   (mode 0600)
//	CNI_NETWORK_CONFIG template ──__PLACEHOLDERS__ filled, JSON checked──► /host/etc/cni/net.d/10-calico.conflist
//
// Configuration comes from the environment with Calico's names
// (config.go); the container-side paths are fields (flags of the
// subcommand) so that tests and the cluster harness can point them at
// temporary directories.
//
// Imports: the standard library and client-go's clientcmd (to write the
// kubeconfig). Nothing else of Tricolor: it runs before anything else on
// the node and needs no datastore.
package installcni
