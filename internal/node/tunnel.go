package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/ipam"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// tunnelKind is one kind of tunnel address a node may hold.
type tunnelKind struct {
	// handle is the IPAM handle kind ("vxlan" → vxlan-tunnel-addr-<node>).
	handle string
	// attrType is Calico's allocation attribute "type".
	attrType string
	v6       bool
	// wants reports whether a pool requires this tunnel.
	wants func(p *v3.IPPool) bool
	// get and set access the Node's fields (address and MAC).
	get func(n *v3.Node) string
	set func(n *v3.Node, addr string)
}

// tunnelKinds are the tunnels calico-node allocates addresses for (WireGuard
// addresses come later, with Felix's WireGuard support).
var tunnelKinds = []tunnelKind{
	{
		handle: "ipip", attrType: "ipipTunnelAddress",
		wants: func(p *v3.IPPool) bool {
			return p.Spec.IPIPMode == v3.IPIPModeAlways || p.Spec.IPIPMode == v3.IPIPModeCrossSubnet
		},
		get: func(n *v3.Node) string {
			if n.Spec.BGP == nil {
				return ""
			}
			return n.Spec.BGP.IPv4IPIPTunnelAddr
		},
		set: func(n *v3.Node, a string) {
			if n.Spec.BGP == nil {
				n.Spec.BGP = &v3.NodeBGPSpec{}
			}
			n.Spec.BGP.IPv4IPIPTunnelAddr = a
			if reflect.DeepEqual(*n.Spec.BGP, v3.NodeBGPSpec{}) {
				n.Spec.BGP = nil
			}
		},
	},
	{
		handle: "vxlan", attrType: "vxlanTunnelAddress",
		wants: wantsVXLAN,
		get:   func(n *v3.Node) string { return n.Spec.IPv4VXLANTunnelAddr },
		set: func(n *v3.Node, a string) {
			n.Spec.IPv4VXLANTunnelAddr = a
			n.Spec.VXLANTunnelMACAddr = keepOrMakeMAC(a, n.Spec.VXLANTunnelMACAddr, "vxlan", n.Name)
		},
	},
	{
		handle: "vxlan-v6", attrType: "vxlanV6TunnelAddress", v6: true,
		wants: wantsVXLAN,
		get:   func(n *v3.Node) string { return n.Spec.IPv6VXLANTunnelAddr },
		set: func(n *v3.Node, a string) {
			n.Spec.IPv6VXLANTunnelAddr = a
			n.Spec.VXLANTunnelMACAddrV6 = keepOrMakeMAC(a, n.Spec.VXLANTunnelMACAddrV6, "vxlan-v6", n.Name)
		},
	},
}

func wantsVXLAN(p *v3.IPPool) bool {
	return p.Spec.VXLANMode == v3.VXLANModeAlways || p.Spec.VXLANMode == v3.VXLANModeCrossSubnet
}

// keepOrMakeMAC returns "" when the tunnel has no address, the stored MAC
// when there is one, else a MAC derived from the node name: stable across
// restarts (the VTEP other nodes program does not churn), locally
// administered and unicast.
func keepOrMakeMAC(addr, stored, kind, node string) string {
	if addr == "" {
		return ""
	}
	if stored != "" {
		return stored
	}
	sum := sha256.Sum256([]byte(kind + "/" + node))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = (mac[0] | 0x02) &^ 0x01
	return mac.String()
}

// ReconcileTunnelAddrs gives the node exactly the tunnel addresses its pools
// need, as Calico's calico-node does at startup and whenever pools change:
// for IPIP (ipip-tunnel-addr-<node>, spec.bgp.ipv4IPIPTunnelAddr) and VXLAN
// (vxlan-tunnel-addr-<node>, spec.ipv4VXLANTunnelAddr + vxlanTunnelMACAddr;
// and the IPv6 twins), an address is allocated from the enabled pools of the
// family that use the encapsulation, allow Tunnel use and select this node;
// an address outside those pools is replaced; when no pool needs the tunnel
// its address is released and cleared. The Node is written (CAS) only when
// it changed. Allocations made by a run that then fails are released.
func ReconcileTunnelAddrs(ctx context.Context, c *client.Client, im *ipam.IPAM, nodeName string, log *slog.Logger) (*v3.Node, error) {
	pools, _, err := client.List[*v3.IPPool](ctx, c, "")
	if err != nil {
		return nil, fmt.Errorf("list IP pools for tunnel addresses: %w", err)
	}
	var assigned []string
	n, err := updateNode(ctx, c, nodeName, func(n *v3.Node, exists bool) (bool, error) {
		if !exists {
			return false, fmt.Errorf("node %q does not exist; tunnel addresses are allocated after startup writes it", nodeName)
		}
		before := n.DeepCopy()
		for _, k := range tunnelKinds {
			names := tunnelPools(pools, n, k)
			h := ipam.TunnelHandle(k.handle, n.Name)
			if len(names) == 0 {
				if _, err := im.ReleaseByHandle(ctx, h); err != nil && !errors.Is(err, ipam.ErrNoSuchAllocation) {
					return false, fmt.Errorf("release tunnel address %s of node %q: %w", h, n.Name, err)
				}
				if k.get(n) != "" {
					log.Info("released tunnel address: no pool needs it", "handle", h, "address", k.get(n))
				}
				k.set(n, "")
				continue
			}
			addr, err := ensureTunnelAddr(ctx, im, n, k, pools, names, log)
			if err != nil {
				return false, err
			}
			if addr != k.get(n) {
				assigned = append(assigned, h)
			}
			k.set(n, addr)
		}
		return !reflect.DeepEqual(before.Spec, n.Spec), nil
	})
	if err != nil {
		for _, h := range assigned {
			if _, rerr := im.ReleaseByHandle(ctx, h); rerr != nil {
				log.Warn("could not release a tunnel address after a failed node update; IPAM GC will", "handle", h, "err", rerr)
			}
		}
		return nil, err
	}
	return n, nil
}

// ensureTunnelAddr keeps the node's current address when it is still ours
// and inside one of the pools, else allocates a new one.
func ensureTunnelAddr(ctx context.Context, im *ipam.IPAM, n *v3.Node, k tunnelKind, pools []*v3.IPPool, names []string, log *slog.Logger) (string, error) {
	h := ipam.TunnelHandle(k.handle, n.Name)
	if cur, err := netip.ParseAddr(k.get(n)); err == nil {
		alloc, err := im.GetAssignmentAttributes(ctx, cur)
		switch {
		case err == nil && alloc.Handle == h:
			if inPools(cur, pools, names) {
				return cur.String(), nil
			}
			log.Info("tunnel address is outside the pools that need it; replacing it", "handle", h, "address", cur)
		case err == nil:
			// Someone else holds it (a pod, another node): leave it alone.
			log.Warn("tunnel address is allocated to someone else; assigning a new one", "handle", h, "address", cur, "owner", alloc.Handle)
		case !errors.Is(err, ipam.ErrNoSuchAllocation):
			return "", fmt.Errorf("read the allocation of tunnel address %s of node %q: %w", cur, n.Name, err)
		}
	}
	// Release anything still held under our handle before taking a new
	// address, so a node never holds two.
	if _, err := im.ReleaseByHandle(ctx, h); err != nil && !errors.Is(err, ipam.ErrNoSuchAllocation) {
		return "", fmt.Errorf("release old tunnel address %s of node %q: %w", h, n.Name, err)
	}
	args := ipam.AutoAssignArgs{
		HandleID: h, Hostname: n.Name, IntendedUse: ipam.UseTunnel,
		Attrs: map[string]string{ipam.AttrNode: n.Name, ipam.AttrType: k.attrType},
	}
	if k.v6 {
		args.Num6, args.IPv6Pools = 1, names
	} else {
		args.Num4, args.IPv4Pools = 1, names
	}
	v4, v6, err := im.AutoAssign(ctx, args)
	if err != nil {
		return "", fmt.Errorf("allocate a %s tunnel address for node %q from pools %v: %w", k.handle, n.Name, names, err)
	}
	a := v4
	if k.v6 {
		a = v6
	}
	if a == nil || len(a.IPs) != 1 {
		return "", fmt.Errorf("allocate a %s tunnel address for node %q: IPAM returned no address", k.handle, n.Name)
	}
	log.Info("assigned tunnel address", "handle", h, "address", a.IPs[0].Addr, "pool", a.IPs[0].Pool)
	return a.IPs[0].Addr.String(), nil
}

// tunnelPools names the pools that need tunnel kind k on node n.
func tunnelPools(pools []*v3.IPPool, n *v3.Node, k tunnelKind) []string {
	var out []string
	for _, p := range pools {
		cidr, err := netip.ParsePrefix(p.Spec.CIDR)
		if err != nil || cidr.Addr().Is4() == k.v6 || p.Spec.Disabled || p.DeletionTimestamp != nil || !k.wants(p) {
			continue
		}
		if len(p.Spec.AllowedUses) > 0 && !slices.Contains(p.Spec.AllowedUses, v3.IPPoolAllowedUseTunnel) {
			continue
		}
		if p.Spec.NodeSelector != "" {
			sel, err := selector.Parse(p.Spec.NodeSelector)
			if err != nil || !sel.Evaluate(n.Labels) {
				continue
			}
		}
		out = append(out, p.Name)
	}
	return out
}

// inPools reports whether a is inside one of the named pools.
func inPools(a netip.Addr, pools []*v3.IPPool, names []string) bool {
	for _, p := range pools {
		if !slices.Contains(names, p.Name) {
			continue
		}
		if cidr, err := netip.ParsePrefix(p.Spec.CIDR); err == nil && cidr.Contains(a) {
			return true
		}
	}
	return false
}
