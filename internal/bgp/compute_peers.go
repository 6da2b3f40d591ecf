package bgp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/selector"
)

// peers expands the mesh and every BGPPeer into the sessions this node
// keeps. When two sources produce the same address and port the first one
// wins, in this order: mesh, then BGPPeers by name; so a BGPPeer never
// doubles a mesh session.
func (c *computation) peers(self *v3.Node, d *Desired) []Peer {
	byKey := map[netip.AddrPort]Peer{}
	var order []netip.AddrPort
	add := func(p Peer) {
		if !p.Address.IsValid() || p.Address == d.IPv4 || p.Address == d.IPv6 {
			return // never peer with ourselves
		}
		k := p.Key()
		if _, dup := byKey[k]; dup {
			return
		}
		byKey[k] = p
		order = append(order, k)
	}
	if c.meshEnabled() {
		for _, n := range c.nodeList {
			if n.Name != self.Name {
				for _, p := range c.nodePeers(self, n, d, PeerTypeMesh, nil) {
					add(p)
				}
			}
		}
	}
	bgpPeers := slices.Clone(c.st.BGPPeers)
	slices.SortFunc(bgpPeers, func(a, b v3.BGPPeer) int { return strings.Compare(a.Name, b.Name) })
	for i := range bgpPeers {
		for _, p := range c.explicitPeers(self, &bgpPeers[i], d) {
			add(p)
		}
	}
	out := make([]Peer, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	slices.SortFunc(out, func(a, b Peer) int { return a.Key().Compare(b.Key()) })
	return out
}

// explicitPeers expands one BGPPeer for this node: its peerIP, or the nodes
// its peerSelector picks, plus the reverse side of a peerSelector peering
// when this node is one of the selected peers (reversePeering Auto).
func (c *computation) explicitPeers(self *v3.Node, bp *v3.BGPPeer, d *Desired) []Peer {
	if err := bp.Validate(); err != nil {
		c.problemf("%v; the peering is skipped until it is fixed", err)
		return nil
	}
	s := &bp.Spec
	typ := PeerTypeNode
	if s.Node == "" && s.NodeSelector == "" {
		typ = PeerTypeGlobal
	}
	local, ok := c.appliesTo(bp, self)
	if !ok {
		return nil
	}
	var out []Peer
	switch {
	case s.PeerIP != "":
		if local {
			if p, ok := c.addressPeer(bp, typ, d); ok {
				out = append(out, p)
			}
		}
	case s.PeerSelector != "":
		sel, err := selector.Parse(s.PeerSelector)
		if err != nil {
			c.problemf("bgppeer %q: spec.peerSelector: %v", bp.Name, err)
			return nil
		}
		for _, n := range c.nodeList {
			if n.Name == self.Name {
				continue
			}
			forward := local && sel.Evaluate(n.Labels)
			reverse := false
			if !forward && (s.ReversePeering == nil || *s.ReversePeering != v3.ReversePeeringManual) && sel.Evaluate(self.Labels) {
				reverse, _ = c.appliesTo(bp, n)
			}
			if forward || reverse {
				out = append(out, c.nodePeers(self, n, d, typ, bp)...)
			}
		}
	}
	return out
}

// appliesTo reports whether a BGPPeer's local side (node, nodeSelector, or
// all nodes) selects n. ok is false when the nodeSelector does not parse.
func (c *computation) appliesTo(bp *v3.BGPPeer, n *v3.Node) (match, ok bool) {
	switch {
	case bp.Spec.Node != "":
		return bp.Spec.Node == n.Name, true
	case bp.Spec.NodeSelector != "":
		sel, err := selector.Parse(bp.Spec.NodeSelector)
		if err != nil {
			c.problemf("bgppeer %q: spec.nodeSelector: %v", bp.Name, err)
			return false, false
		}
		return sel.Evaluate(n.Labels), true
	}
	return true, true
}

// nodePeers returns the sessions to another Calico node, one per address
// family both nodes have. bp is nil for mesh sessions.
func (c *computation) nodePeers(self, other *v3.Node, d *Desired, typ PeerType, bp *v3.BGPPeer) []Peer {
	o4, o6 := nodeAddrs(other)
	var out []Peer
	for _, fam := range []struct{ local, remote netip.Addr }{{d.IPv4, o4}, {d.IPv6, o6}} {
		if !fam.local.IsValid() || !fam.remote.IsValid() {
			continue
		}
		p := Peer{
			Address:        fam.remote,
			Port:           c.listenPort(other.Name),
			ASN:            c.nodeASN(other),
			Type:           typ,
			NodeName:       other.Name,
			RRClient:       rrClient(self, other),
			SourceAddress:  fam.local,
			MaxRestartTime: DefaultMaxRestartTime,
		}
		if bp == nil {
			// Mesh: the higher address connects, the lower waits.
			p.Passive = fam.remote.Compare(fam.local) > 0
			if c.def.NodeMeshMaxRestartTime != nil {
				p.MaxRestartTime = c.def.NodeMeshMaxRestartTime.Duration
			}
			p.Password = c.password(c.def.NodeMeshPassword, "bgpconfiguration \"default\": spec.nodeMeshPassword")
		} else {
			c.applyPeerSpec(&p, bp)
		}
		p.Name = peerName(typ, p.Address, p.Port)
		out = append(out, p)
	}
	return out
}

// addressPeer returns the session to a BGPPeer's peerIP.
func (c *computation) addressPeer(bp *v3.BGPPeer, typ PeerType, d *Desired) (Peer, bool) {
	addr, port, err := parsePeerIP(bp.Spec.PeerIP)
	if err != nil {
		c.problemf("bgppeer %q: spec.peerIP: %v", bp.Name, err)
		return Peer{}, false
	}
	if port == 0 {
		port = v3.DefaultBGPListenPort
	}
	p := Peer{
		Address:        addr,
		Port:           port,
		ASN:            uint32(bp.Spec.ASNumber),
		Type:           typ,
		MaxRestartTime: DefaultMaxRestartTime,
	}
	if addr.Is4() {
		p.SourceAddress = d.IPv4
	} else {
		p.SourceAddress = d.IPv6
	}
	if !p.SourceAddress.IsValid() {
		c.problemf("bgppeer %q: peer %s is %s but node %q has no address of that family; the session is skipped", bp.Name, addr, family(addr), c.nodeName)
		return Peer{}, false
	}
	// A peerIP that is another Calico node's address is that node.
	for _, n := range c.nodeList {
		if v4, v6 := nodeAddrs(n); v4 == addr || v6 == addr {
			p.NodeName = n.Name
			p.RRClient = rrClient(c.nodes[c.nodeName], n)
		}
	}
	c.applyPeerSpec(&p, bp)
	p.Name = peerName(typ, p.Address, p.Port)
	return p, true
}

// applyPeerSpec copies a BGPPeer's per-session options onto p.
func (c *computation) applyPeerSpec(p *Peer, bp *v3.BGPPeer) {
	s := &bp.Spec
	if s.LocalASNumber != nil {
		p.LocalASN = uint32(*s.LocalASNumber)
	}
	p.KeepOriginalNextHop = s.KeepOriginalNextHop
	if s.NextHopMode != nil {
		p.KeepOriginalNextHop = *s.NextHopMode == v3.NextHopModeKeep
		p.NextHopSelf = *s.NextHopMode == v3.NextHopModeSelf
	}
	if s.MaxRestartTime != nil {
		p.MaxRestartTime = s.MaxRestartTime.Duration
	}
	if s.SourceAddress == v3.SourceAddressNone {
		p.SourceAddress = netip.Addr{}
	}
	if s.TTLSecurity != nil {
		p.TTLSecurity = *s.TTLSecurity
	}
	if s.NumAllowedLocalASNumbers != nil {
		p.NumAllowedLocalASNumbers = uint32(*s.NumAllowedLocalASNumbers)
	}
	p.Password = c.password(s.Password, fmt.Sprintf("bgppeer %q: spec.password", bp.Name))
	for _, f := range s.Filters {
		if _, ok := c.filters[f]; !ok {
			c.problemf("bgppeer %q: spec.filters names BGPFilter %q, which does not exist; create it or remove the name (ignored until then)", bp.Name, f)
			continue
		}
		p.Filters = append(p.Filters, f)
	}
}

// password resolves a secret reference; a failure is a problem and the
// session goes without a password (the peer will then refuse it, which
// shows in its status rather than silently dropping the session).
func (c *computation) password(pw *v3.BGPPassword, field string) string {
	if pw == nil || pw.SecretKeyRef == nil {
		return ""
	}
	ref := pw.SecretKeyRef
	if c.secrets == nil {
		c.problemf("%s: secret %q key %q cannot be read: calico-node has no Kubernetes API configuration to read Secrets from; "+
			"set KUBECONFIG (or run calico-node in a pod) and put the Secret in calico-node's namespace; the session runs without a password until then",
			field, ref.Name, ref.Key)
		return ""
	}
	v, err := c.secrets(ref.Name, ref.Key)
	if err != nil {
		c.problemf("%s: secret %q key %q: %v", field, ref.Name, ref.Key, err)
		return ""
	}
	return v
}

// rrClient reports whether other is a route-reflector client of self: self
// is a route reflector and other is not in the same cluster.
func rrClient(self, other *v3.Node) bool {
	if self == nil || self.Spec.BGP == nil || self.Spec.BGP.RouteReflectorClusterID == "" {
		return false
	}
	return other.Spec.BGP == nil || other.Spec.BGP.RouteReflectorClusterID != self.Spec.BGP.RouteReflectorClusterID
}

// parsePeerIP splits Calico's peerIP forms: "ip", "ipv4:port", "[ipv6]:port".
func parsePeerIP(s string) (netip.Addr, uint16, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), 0, nil
	}
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q is not an IP, ipv4:port or [ipv6]:port", s)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("%q: %q is not an IP address", s, host)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 {
		return netip.Addr{}, 0, fmt.Errorf("%q: port %q is not 1-65535", s, ps)
	}
	return a.Unmap(), uint16(port), nil
}

// peerName builds BIRD's protocol name the way Calico's templates do:
// Mesh_/Global_/Node_ then the address with separators as underscores,
// then _port_N for a non-default port.
func peerName(typ PeerType, addr netip.Addr, port uint16) string {
	prefix := map[PeerType]string{PeerTypeMesh: "Mesh_", PeerTypeGlobal: "Global_", PeerTypeNode: "Node_"}[typ]
	id := strings.NewReplacer(".", "_", ":", "_").Replace(addr.String())
	name := prefix + id
	if port != 0 && port != v3.DefaultBGPListenPort {
		name += "_port_" + strconv.Itoa(int(port))
	}
	return name
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
