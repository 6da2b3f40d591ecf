package ctl

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// owners is what `ipam check` knows about who may hold an address, read
// from the datastore (no Kubernetes API): every Node and WorkloadEndpoint,
// the addresses they list, and indexes to find an allocation's owner.
//
// An allocation is in use (not leaked) when any of these holds:
//
//   - a WorkloadEndpoint lists the address in spec.ipNetworks, or a Node
//     lists it as a tunnel address (Calico's own test);
//   - its handle is a pod handle (k8s-pod-network.<containerID>) and the
//     WorkloadEndpoint of its namespace/pod attributes exists (spec.pod in
//     that namespace), or, without those attributes, a WorkloadEndpoint
//     with that containerID exists;
//   - its handle is a tunnel handle (<kind>-tunnel-addr-<node>) and that
//     Node exists;
//   - its handle is of any other form (or missing): its owner cannot be
//     checked, so it is assumed in use rather than reported as a leak.
//
// Calico's calicoctl checks owners against the Kubernetes API; on etcd
// without Kubernetes the WorkloadEndpoints and Nodes are the owners.
type owners struct {
	nodes        map[string]bool
	podWEP       map[string]string // namespace/pod → WEP ref
	containerWEP map[string]string // containerID → WEP ref
	byIP         map[netip.Addr][]string
	nodeIPs      int
	wepIPs       int
}

// loadOwners lists Nodes and WorkloadEndpoints.
func loadOwners(ctx context.Context, c *client.Client) (*owners, error) {
	o := &owners{nodes: map[string]bool{}, podWEP: map[string]string{}, containerWEP: map[string]string{}, byIP: map[netip.Addr][]string{}}
	nodes, _, err := c.List(ctx, v3.KindNode, "")
	if err != nil {
		return nil, fmt.Errorf("failed to list nodes: %w", err)
	}
	for _, r := range nodes {
		n := r.(*v3.Node)
		o.nodes[n.Name] = true
		addrs := []string{n.Spec.IPv4VXLANTunnelAddr, n.Spec.IPv6VXLANTunnelAddr}
		if n.Spec.BGP != nil {
			addrs = append(addrs, n.Spec.BGP.IPv4IPIPTunnelAddr)
		}
		if n.Spec.Wireguard != nil {
			addrs = append(addrs, n.Spec.Wireguard.InterfaceIPv4Address, n.Spec.Wireguard.InterfaceIPv6Address)
		}
		for _, s := range addrs {
			if ip, ok := addrOf(s); ok {
				o.byIP[ip] = append(o.byIP[ip], fmt.Sprintf("Node(%s)", n.Name))
				o.nodeIPs++
			}
		}
	}
	weps, _, err := c.List(ctx, v3.KindWorkloadEndpoint, "")
	if err != nil {
		return nil, fmt.Errorf("failed to list workload endpoints: %w", err)
	}
	for _, r := range weps {
		w := r.(*v3.WorkloadEndpoint)
		ref := fmt.Sprintf("Workload(%s/%s)", w.Namespace, w.Name)
		if w.Spec.Pod != "" {
			o.podWEP[w.Namespace+"/"+w.Spec.Pod] = ref
		}
		if w.Spec.ContainerID != "" {
			o.containerWEP[w.Spec.ContainerID] = ref
		}
		for _, s := range w.Spec.IPNetworks {
			if ip, ok := addrOf(s); ok {
				o.byIP[ip] = append(o.byIP[ip], ref)
				o.wepIPs++
			}
		}
	}
	return o, nil
}

// addrOf parses "10.0.0.1" or "10.0.0.1/32".
func addrOf(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr().Unmap(), true
	}
	ip, err := netip.ParseAddr(s)
	return ip.Unmap(), err == nil
}

// ownerOf says who holds allocation a: the owners found, and whether the
// handle is of a kind whose owner can be checked at all.
func (o *owners) ownerOf(a ipam.Allocation) (found []string, checkable bool) {
	found = append(found, o.byIP[a.Addr]...)
	switch {
	case strings.HasPrefix(a.Handle, ipam.WorkloadHandlePrefix):
		ns, pod := a.Attrs[ipam.AttrNamespace], a.Attrs[ipam.AttrPod]
		var ref string
		if pod != "" {
			ref = o.podWEP[ns+"/"+pod]
		} else {
			ref = o.containerWEP[strings.TrimPrefix(a.Handle, ipam.WorkloadHandlePrefix)]
		}
		if ref != "" && !slices.Contains(found, ref) {
			found = append(found, ref)
		}
		return found, true
	case tunnelNode(a.Handle) != "":
		n := tunnelNode(a.Handle)
		if ref := fmt.Sprintf("Node(%s)", n); o.nodes[n] && !slices.Contains(found, ref) {
			found = append(found, ref)
		}
		return found, true
	}
	return found, false
}

// tunnelNode returns the node of a tunnel handle ("vxlan-tunnel-addr-n1"
// → "n1"), or "".
func tunnelNode(handle string) string {
	const marker = "-tunnel-addr-"
	i := strings.Index(handle, marker)
	if i <= 0 {
		return ""
	}
	switch handle[:i] {
	case "ipip", "vxlan", "vxlan-v6", "wireguard", "wireguard-v6":
		return handle[i+len(marker):]
	}
	return ""
}
