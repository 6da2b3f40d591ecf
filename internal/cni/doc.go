// Package cni is the calico and calico-ipam CNI plugins: it turns a
// container runtime's ADD / DEL / CHECK / STATUS / GC into Calico's pod data
// path, IPAM allocations and a WorkloadEndpoint in the datastore.
//
// One binary serves both plugins; cmd/calico picks Plugin or IPAMPlugin by
// argv[0] and hands them to the CNI project's skel, which parses the
// environment, checks the spec version and prints results and errors.
//
//	runtime ──exec──► calico ADD
//	                   │ ParseNetConf (strict: unknown or malformed fields are errors)
//	                   │ Workload (k8s from CNI_ARGS, or plain cni)
//	                   ▼
//	          ipam (in-process for calico-ipam, exec for any other IPAM plugin)
//	                   │ handle k8s-pod-network.<containerID>
//	                   ▼
//	          SetupPod: veth caliXXXXXXXXXXX ⇄ eth0, /32 + 169.254.1.1 routes,
//	                    ee:ee:ee:ee:ee:ee, proxy_arp, route_localnet, forwarding
//	                   ▼
//	          WorkloadEndpoint apply ──► result (printed for the config's cniVersion)
//	          any failure after IPAM: remove the veth, release the handle
//
// Imports: api/v3, internal/client (datastore access, WorkloadEndpoints),
// internal/ipam, the CNI libraries (skel, types, invoke) and netlink/netns.
// Nothing above the client layer.
package cni
