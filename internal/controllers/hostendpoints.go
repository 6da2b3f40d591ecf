package controllers

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"reflect"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
)

// Auto host endpoints, as Calico's kube-controllers makes them.
const (
	// CreatedByLabel marks the host endpoints the node controller created
	// (value CreatedByKubeControllers); it only ever changes or deletes
	// host endpoints that carry it.
	CreatedByLabel           = "projectcalico.org/created-by"
	CreatedByKubeControllers = "calico-kube-controllers"
	// AutoHostEndpointSuffix ends the name of a node's auto host endpoint.
	AutoHostEndpointSuffix = "-auto-hep"
	// DefaultAllowProfile is the profile Calico provides with one Allow
	// rule each way; auto host endpoints name it so that a node stays open
	// until policy selects its host endpoint.
	DefaultAllowProfile = "projectcalico-default-allow"
)

// autoHostEndpointName is "<node>-auto-hep".
func autoHostEndpointName(node string) string { return node + AutoHostEndpointSuffix }

// isAutoHostEndpoint reports whether h carries our created-by label.
func isAutoHostEndpoint(h *v3.HostEndpoint) bool {
	return h.Labels[CreatedByLabel] == CreatedByKubeControllers
}

// autoHostEndpoint is the host endpoint the node controller keeps for n:
// all interfaces ("*"), n's addresses, n's labels plus the created-by
// label, and the default-allow profile.
func autoHostEndpoint(n *v3.Node) *v3.HostEndpoint {
	h := v3.NewHostEndpoint()
	h.Name = autoHostEndpointName(n.Name)
	h.Labels = maps.Clone(n.Labels)
	if h.Labels == nil {
		h.Labels = map[string]string{}
	}
	h.Labels[CreatedByLabel] = CreatedByKubeControllers
	h.Spec = v3.HostEndpointSpec{Node: n.Name, InterfaceName: "*", ExpectedIPs: nodeIPs(n), Profiles: []string{DefaultAllowProfile}}
	return h
}

// nodeIPs are the addresses Calico uses on n, without prefix lengths and
// each once, in Calico's order: BGP IPv4 and IPv6, IPIP tunnel, VXLAN
// tunnels, WireGuard interfaces, then the InternalIP addresses.
func nodeIPs(n *v3.Node) []string {
	var cands []string
	if b := n.Spec.BGP; b != nil {
		cands = append(cands, b.IPv4Address, b.IPv6Address, b.IPv4IPIPTunnelAddr)
	}
	cands = append(cands, n.Spec.IPv4VXLANTunnelAddr, n.Spec.IPv6VXLANTunnelAddr)
	if w := n.Spec.Wireguard; w != nil {
		cands = append(cands, w.InterfaceIPv4Address, w.InterfaceIPv6Address)
	}
	for _, a := range n.Spec.Addresses {
		if a.Type == v3.InternalIP {
			cands = append(cands, a.Address)
		}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, c := range cands {
		addr, err := netip.ParseAddr(c)
		if p, perr := netip.ParsePrefix(c); perr == nil {
			addr, err = p.Addr(), nil
		}
		if err != nil || seen[addr.String()] {
			continue
		}
		seen[addr.String()] = true
		out = append(out, addr.String())
	}
	return out
}

// syncHostEndpoint makes "<name>-auto-hep" what node asks for while
// autoCreate is enabled: written from the node, deleted once the node is
// gone (node nil). A host endpoint of that name without our label is
// someone else's and is never touched. With autoCreate disabled it reads
// nothing: resync deletes every auto host endpoint.
func (s *nodeSync) syncHostEndpoint(ctx context.Context, name string, node *v3.Node) error {
	if !s.set.autoHEP {
		return nil
	}
	var want *v3.HostEndpoint
	if node != nil {
		want = autoHostEndpoint(node)
	}
	hepName := autoHostEndpointName(name)
	res, err := s.c.Get(ctx, v3.KindHostEndpoint, "", hepName)
	switch {
	case client.IsNotFound(err):
		if want == nil {
			return nil
		}
		if _, err := s.c.Create(ctx, want); err != nil {
			return fmt.Errorf("create host endpoint %q for node %q: %w", hepName, name, err)
		}
		s.loop.log.Info("created auto host endpoint", "hostEndpoint", hepName, "expectedIPs", want.Spec.ExpectedIPs)
		return nil
	case err != nil:
		return fmt.Errorf("read host endpoint %q: %w", hepName, err)
	}
	cur := res.(*v3.HostEndpoint)
	switch {
	case !isAutoHostEndpoint(cur):
		if want != nil {
			s.loop.log.Warn("a host endpoint without the created-by label has the auto host endpoint's name; left as it is",
				"hostEndpoint", hepName, "fix", "rename or delete it, or label it "+CreatedByLabel+"="+CreatedByKubeControllers+" to hand it over")
		}
		return nil
	case want == nil:
		return s.deleteHostEndpoint(ctx, cur)
	case maps.Equal(cur.Labels, want.Labels) && reflect.DeepEqual(cur.Spec, want.Spec):
		return nil
	}
	want.ResourceVersion = cur.ResourceVersion
	want.Annotations = cur.Annotations
	if _, err := s.c.Update(ctx, want); err != nil {
		return fmt.Errorf("update host endpoint %q for node %q: %w", hepName, name, err)
	}
	s.loop.log.Info("updated auto host endpoint", "hostEndpoint", hepName, "expectedIPs", want.Spec.ExpectedIPs)
	return nil
}

// deleteHostEndpoint deletes one of our host endpoints (CAS on the
// revision read; already gone is fine).
func (s *nodeSync) deleteHostEndpoint(ctx context.Context, h *v3.HostEndpoint) error {
	_, err := s.c.Delete(ctx, v3.KindHostEndpoint, "", h.Name, h.ResourceVersion)
	if err != nil && !client.IsNotFound(err) {
		return fmt.Errorf("delete auto host endpoint %q: %w", h.Name, err)
	}
	if err == nil {
		s.loop.log.Info("deleted auto host endpoint", "hostEndpoint", h.Name, "node", h.Spec.Node)
	}
	return nil
}

// autoHostEndpoints lists the host endpoints carrying our label.
func (s *nodeSync) autoHostEndpoints(ctx context.Context) ([]*v3.HostEndpoint, error) {
	all, _, err := s.c.List(ctx, v3.KindHostEndpoint, "")
	if err != nil {
		return nil, fmt.Errorf("list host endpoints: %w", err)
	}
	var out []*v3.HostEndpoint
	for _, r := range all {
		if h, ok := r.(*v3.HostEndpoint); ok && isAutoHostEndpoint(h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// warnWithoutDefaultAllow says so when the datastore does not provide
// the default-allow profile the auto host endpoints name: Felix then
// treats it as missing and denies the host's traffic beyond the failsafe
// ports. In Calico every datastore provides it (the Felix syncer sends
// it, and the Kubernetes datastore lists it).
func (s *nodeSync) warnWithoutDefaultAllow(ctx context.Context) {
	if _, err := s.c.Get(ctx, v3.KindProfile, "", DefaultAllowProfile); client.IsNotFound(err) {
		s.loop.log.Warn("auto host endpoints name profile "+DefaultAllowProfile+", which this datastore does not provide; "+
			"until it exists, Felix denies the nodes' traffic beyond the failsafe ports", "profile", DefaultAllowProfile)
	}
}
