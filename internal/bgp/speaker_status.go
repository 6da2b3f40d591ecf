package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v4/api"
)

// PeerStatus is one row of `calicoctl node status`.
type PeerStatus struct {
	// Peer is the desired session.
	Peer Peer
	// State is BIRD's spelling of the session state: Idle, Connect, Active,
	// OpenSent, OpenConfirm or Established.
	State string
	// Since is when the state last changed (zero if unknown).
	Since time.Time
	// Info is "Established" when up, else why not (GoBGP's last disconnect
	// reason, e.g. a hold-timer expiry or a notification received).
	Info string
}

// Established reports whether the session is up.
func (p PeerStatus) Established() bool { return p.State == "Established" }

// Status lists every configured peer with its session state, sorted by
// address.
func (s *Speaker) Status(ctx context.Context) ([]PeerStatus, error) {
	s.mu.Lock()
	peers := make(map[netip.Addr]Peer, len(s.peers))
	for a, p := range s.peers {
		peers[a] = p
	}
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil, nil
	}
	var out []PeerStatus
	err := srv.ListPeer(ctx, &api.ListPeerRequest{}, func(ap *api.Peer) {
		if ap.State == nil {
			return
		}
		addr, err := netip.ParseAddr(ap.State.NeighborAddress)
		if err != nil {
			return
		}
		p, ok := peers[addr.Unmap()]
		if !ok {
			return
		}
		st := PeerStatus{Peer: p, State: sessionState(ap.State.SessionState)}
		s.stateMu.Lock()
		st.Since = s.since[p.Address]
		s.stateMu.Unlock()
		if st.Established() {
			st.Info = "Established"
		} else {
			st.Info = disconnectInfo(ap.State)
			if p.Password != "" {
				// A wrong MD5 password makes the kernel drop the peer's
				// segments silently; say so, since nothing else will.
				st.Info += " (MD5 password set: check it matches the peer's)"
			}
		}
		out = append(out, st)
	})
	if err != nil {
		return nil, fmt.Errorf("list BGP peers: %w", err)
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return a.Peer.Key().Compare(b.Peer.Key()) })
	return out, nil
}

func sessionState(s api.PeerState_SessionState) string {
	switch s {
	case api.PeerState_SESSION_STATE_IDLE:
		return "Idle"
	case api.PeerState_SESSION_STATE_CONNECT:
		return "Connect"
	case api.PeerState_SESSION_STATE_ACTIVE:
		return "Active"
	case api.PeerState_SESSION_STATE_OPENSENT:
		return "OpenSent"
	case api.PeerState_SESSION_STATE_OPENCONFIRM:
		return "OpenConfirm"
	case api.PeerState_SESSION_STATE_ESTABLISHED:
		return "Established"
	}
	return "Idle"
}

// disconnectInfo explains a session that is not up.
func disconnectInfo(st *api.PeerState) string {
	if st.DisconnectMessage != "" {
		return st.DisconnectMessage
	}
	if st.DisconnectReason != api.PeerState_DISCONNECT_REASON_UNSPECIFIED {
		r := strings.TrimPrefix(st.DisconnectReason.String(), "DISCONNECT_REASON_")
		return strings.ReplaceAll(strings.ToLower(r), "_", " ")
	}
	switch st.SessionState {
	case api.PeerState_SESSION_STATE_ACTIVE, api.PeerState_SESSION_STATE_CONNECT:
		return "Socket: no answer from peer"
	}
	return "waiting for the peer"
}
