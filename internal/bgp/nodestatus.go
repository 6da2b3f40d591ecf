package bgp

import (
	"net/netip"
	"runtime/debug"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// Snapshot is what a CalicoNodeStatus report is built from: the speaker's
// identity and timestamps, its sessions, and the routes it holds.
type Snapshot struct {
	// Running reports that the datastore state has been applied and the
	// speaker answers (BIRD's "Ready").
	Running bool
	// RouterID is the speaker's router ID (invalid before the first apply).
	RouterID netip.Addr
	// BootTime is when the speaker first started; ReconfiguredAt when it
	// last took a changed configuration.
	BootTime, ReconfiguredAt time.Time
	// Peers are the configured sessions.
	Peers []PeerStatus
	// Learned are the best paths learned from peers.
	Learned []LearnedRoute
	// Installed maps the learned prefixes that are in the kernel (ours,
	// protocol bird) to their outgoing interface; nil when the agent
	// installs no routes (every learned path is then RIB only).
	Installed map[netip.Prefix]string
	// Blackholes are this node's affine blocks (local blackhole routes).
	Blackholes []netip.Prefix
}

// birdTimeFormat is how BIRD prints lastBootTime and
// lastReconfigurationTime ("2021-10-18 09:23:19"), and so how Calico
// reports them.
const birdTimeFormat = "2006-01-02 15:04:05"

// BuildNodeStatus is the status block of a CalicoNodeStatus for the given
// classes, as Calico's calico-node fills it from BIRD: only the classes
// asked for are set; lastUpdated is now. IPv4 and IPv6 are served by the
// one embedded speaker, so birdV4 and birdV6 carry the same daemon state.
func BuildNodeStatus(classes []v3.NodeStatusClassType, s Snapshot, now time.Time) v3.CalicoNodeStatusStatus {
	out := v3.CalicoNodeStatusStatus{LastUpdated: metav1.NewTime(now.UTC().Truncate(time.Second))}
	for _, c := range classes {
		switch c {
		case v3.NodeStatusClassTypeAgent:
			d := daemonStatus(s)
			out.Agent = v3.CalicoNodeAgentStatus{BIRDV4: d, BIRDV6: d}
		case v3.NodeStatusClassTypeBGP:
			out.BGP = bgpStatus(s.Peers)
		case v3.NodeStatusClassTypeRoutes:
			out.Routes = routeStatus(s)
		}
	}
	return out
}

// daemonStatus is the birdV4/birdV6 block.
func daemonStatus(s Snapshot) v3.BGPDaemonStatus {
	d := v3.BGPDaemonStatus{State: v3.BGPDaemonStateNotReady, Version: speakerVersion()}
	if s.Running {
		d.State = v3.BGPDaemonStateReady
	}
	if s.RouterID.IsValid() {
		d.RouterID = s.RouterID.String()
	}
	if !s.BootTime.IsZero() {
		d.LastBootTime = s.BootTime.UTC().Format(birdTimeFormat)
	}
	if !s.ReconfiguredAt.IsZero() {
		d.LastReconfigurationTime = s.ReconfiguredAt.UTC().Format(birdTimeFormat)
	}
	return d
}

// speakerVersion names the embedded speaker and its version, read from the
// binary's build information ("gobgp v4.8.0"; "gobgp" alone when the
// binary carries none, e.g. some test builds).
func speakerVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/osrg/gobgp/v4" {
				return "gobgp " + m.Version
			}
		}
	}
	return "gobgp"
}

// bgpStatus counts and lists the sessions per family.
func bgpStatus(peers []PeerStatus) v3.CalicoNodeBGPStatus {
	var b v3.CalicoNodeBGPStatus
	for _, p := range peers {
		cp := v3.CalicoNodePeer{
			PeerIP: p.Peer.Address.String(),
			Type:   apiPeerType(p.Peer.Type),
			State:  v3.BGPSessionState(p.State),
		}
		if !p.Since.IsZero() {
			cp.Since = p.Since.UTC().Format("15:04:05")
		}
		if p.Peer.Address.Is4() {
			b.PeersV4 = append(b.PeersV4, cp)
			if p.Established() {
				b.NumberEstablishedV4++
			} else {
				b.NumberNotEstablishedV4++
			}
		} else {
			b.PeersV6 = append(b.PeersV6, cp)
			if p.Established() {
				b.NumberEstablishedV6++
			} else {
				b.NumberNotEstablishedV6++
			}
		}
	}
	return b
}

// apiPeerType maps our peer type to the CalicoNodeStatus spelling.
func apiPeerType(t PeerType) v3.BGPPeerType {
	switch t {
	case PeerTypeMesh:
		return v3.BGPPeerTypeNodeMesh
	case PeerTypeNode:
		return v3.BGPPeerTypeNodePeer
	}
	return v3.BGPPeerTypeGlobalPeer
}

// routeStatus lists the speaker's routes: learned best paths (FIB with
// their interface when installed in the kernel, else RIB; via their next
// hop, learned from a mesh or BGPPeer session) and this node's blackholes
// (FIB, interface "blackhole", as Calico shows BIRD's static blackhole
// routes). Sorted by destination.
func routeStatus(s Snapshot) v3.CalicoNodeBGPRouteStatus {
	peerType := map[netip.Addr]PeerType{}
	for _, p := range s.Peers {
		peerType[p.Peer.Address] = p.Peer.Type
	}
	type entry struct {
		prefix netip.Prefix
		route  v3.CalicoNodeRoute
	}
	var all []entry
	for _, r := range s.Learned {
		if r.Withdrawn {
			continue
		}
		src := v3.RouteSourceTypeBGPPeer
		if peerType[r.Peer] == PeerTypeMesh {
			src = v3.RouteSourceTypeNodeMesh
		}
		route := v3.CalicoNodeRoute{
			Type:        v3.RouteTypeRIB,
			Destination: r.Prefix.String(),
			Gateway:     r.NextHop.String(),
			LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: src, PeerIP: r.Peer.String()},
		}
		if dev, ok := s.Installed[r.Prefix]; ok {
			route.Type, route.Interface = v3.RouteTypeFIB, dev
		}
		all = append(all, entry{r.Prefix, route})
	}
	for _, p := range s.Blackholes {
		all = append(all, entry{p, v3.CalicoNodeRoute{
			Type:        v3.RouteTypeFIB,
			Destination: p.String(),
			Gateway:     "N/A",
			Interface:   "blackhole",
			LearnedFrom: v3.CalicoNodeRouteLearnedFrom{SourceType: v3.RouteSourceTypeStatic},
		}})
	}
	slices.SortFunc(all, func(a, b entry) int {
		if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
			return c
		}
		return a.prefix.Bits() - b.prefix.Bits()
	})
	var out v3.CalicoNodeBGPRouteStatus
	for _, e := range all {
		if e.prefix.Addr().Is4() {
			out.RoutesV4 = append(out.RoutesV4, e.route)
		} else {
			out.RoutesV6 = append(out.RoutesV6, e.route)
		}
	}
	return out
}
