package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// SpeakerConfig configures a Speaker.
type SpeakerConfig struct {
	// Logger receives the speaker's and GoBGP's logs (default slog.Default()).
	Logger *slog.Logger
	// ListenAddresses restricts where the speaker listens (default all
	// addresses of the namespace it runs in).
	ListenAddresses []string
	// ConnectRetry is the interval between connection attempts (default 5s;
	// GoBGP's own default of 120s makes a restarted peer wait minutes).
	ConnectRetry time.Duration
	// HoldTime is the hold time offered to peers (default 90s; keepalives
	// are sent every third of it).
	HoldTime time.Duration
	// OnBestPaths, when set, receives every best-path change learned from
	// peers (never our own originated paths), in order, from one goroutine.
	OnBestPaths func([]LearnedRoute)
}

// LearnedRoute is a best path learned from a peer, or its withdrawal.
type LearnedRoute struct {
	// Prefix is the destination.
	Prefix netip.Prefix
	// NextHop is where to send traffic for Prefix.
	NextHop netip.Addr
	// Peer is the session the path came from.
	Peer netip.Addr
	// Withdrawn reports that Prefix has no best path any more.
	Withdrawn bool
}

// Speaker reconciles a Desired onto an embedded GoBGP server. It only
// configures the peers a Desired names (GoBGP refuses connections from
// unconfigured addresses), and only originates the Desired advertisements.
type Speaker struct {
	cfg SpeakerConfig
	log *slog.Logger
	srv *server.BgpServer

	mu      sync.Mutex
	running bool
	global  globalKey
	peers   map[netip.Addr]Peer
	paths   map[netip.Prefix]Advertisement
	nextHop [2]netip.Addr // IPv4, IPv6 next hop the paths were added with
	cancel  context.CancelFunc
	// policyFP fingerprints the policies last set; policyAssigned says the
	// global assignment exists on the current server.
	policyFP       string
	policyAssigned bool

	// stateMu guards since; GoBGP's event goroutine takes it, so it is
	// separate from mu, which is held across calls into GoBGP.
	stateMu sync.Mutex
	since   map[netip.Addr]time.Time
	// stopping silences best-path events while Stop closes the sessions:
	// GoBGP drops each closed session's routes from its own RIB, and those
	// withdrawals must not reach the kernel (invariant 6).
	stopping atomic.Bool
}

// globalKey is the part of Desired that needs a speaker restart to change.
type globalKey struct {
	asn       uint32
	routerID  netip.Addr
	port      uint16
	clusterID string
}

// NewSpeaker creates a speaker; nothing listens until the first Apply.
func NewSpeaker(cfg SpeakerConfig) *Speaker {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ConnectRetry == 0 {
		cfg.ConnectRetry = 5 * time.Second
	}
	if cfg.HoldTime == 0 {
		cfg.HoldTime = 90 * time.Second
	}
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	srv := server.NewBgpServer(server.LoggerOption(cfg.Logger.With("component", "gobgp"), lv))
	go srv.Serve()
	return &Speaker{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "bgp-speaker"),
		srv:   srv,
		peers: map[netip.Addr]Peer{},
		paths: map[netip.Prefix]Advertisement{},
		since: map[netip.Addr]time.Time{},
	}
}

// Apply makes the speaker match d with the smallest change: a changed AS
// number, router ID, listen port or cluster ID restarts BGP; otherwise only
// the peers and paths that differ are deleted, added or replaced.
func (s *Speaker) Apply(ctx context.Context, d *Desired) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := globalKey{asn: d.ASN, routerID: d.RouterID, port: d.ListenPort, clusterID: d.RouteReflectorClusterID}
	if s.running && g != s.global {
		s.log.Info("BGP identity changed; restarting the speaker", "asn", d.ASN, "routerID", d.RouterID, "port", d.ListenPort)
		if err := s.stopLocked(ctx, false); err != nil {
			return err
		}
	}
	if !s.running {
		if err := s.startLocked(ctx, g); err != nil {
			return err
		}
	}
	polChanged, err := s.reconcilePolicies(ctx, d)
	if err != nil {
		return err
	}
	errPeers := s.reconcilePeers(ctx, d)
	errPaths := s.reconcilePaths(d)
	if polChanged {
		s.softResetAll(ctx)
	}
	return joinErrs(nonNil(errPeers, errPaths))
}

// startLocked starts a fresh GoBGP server with the given identity and the
// best-path and peer-state watches (a GoBGP server cannot be restarted
// once stopped, so every start gets a new one).
func (s *Speaker) startLocked(ctx context.Context, g globalKey) error {
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	s.srv = server.NewBgpServer(server.LoggerOption(s.cfg.Logger.With("component", "gobgp"), lv))
	go s.srv.Serve()
	port := int32(g.port)
	global := &api.Global{
		Asn:             g.asn,
		RouterId:        g.routerID.String(),
		ListenPort:      port,
		ListenAddresses: s.cfg.ListenAddresses,
	}
	if err := s.srv.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err != nil {
		_ = s.srv.StopBgp(ctx, &api.StopBgpRequest{})
		s.srv = nil
		return fmt.Errorf("start BGP (AS %d, router ID %s, port %d): %w", g.asn, g.routerID, g.port, err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	err := s.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnBestPath:   s.onBestPath,
		OnPeerUpdate: s.onPeerUpdate,
	}, server.WatchBestPath(true), server.WatchPeer())
	if err != nil {
		cancel()
		return fmt.Errorf("watch GoBGP events: %w", err)
	}
	s.cancel = cancel
	s.stopping.Store(false)
	s.running = true
	s.global = g
	return nil
}

// stopLocked stops BGP. With graceful bool false every peer gets a Cease
// notification and drops our routes at once (an identity change: the
// sessions come back under another AS or router ID). With graceful true a
// peer that negotiated graceful restart gets no notification: its session
// is just closed, so it keeps our routes as stale for our restart time
// (RFC 4724 helper mode) while the next run comes up; a peer without
// graceful restart still gets the Cease.
func (s *Speaker) stopLocked(ctx context.Context, graceful bool) error {
	if !s.running {
		return nil
	}
	if s.cancel != nil {
		s.cancel()
	}
	// StopBgp also ends the server's loop; the next start makes a new one.
	err := s.srv.StopBgp(ctx, &api.StopBgpRequest{AllowGracefulRestart: graceful})
	s.srv = nil
	s.running = false
	clear(s.peers)
	clear(s.paths)
	s.policyFP, s.policyAssigned = "", false
	if err != nil {
		return fmt.Errorf("stop BGP: %w", err)
	}
	return nil
}

// Stop is calico-node stopping (SIGTERM, an upgrade, a restart): it closes
// every session without withdrawing our advertisements and without a Cease
// to peers that negotiated graceful restart, as a killed BIRD does in
// Calico. Those peers keep our routes until we are back and have re-sent
// them, or until the restart time we advertised (maxRestartTime,
// nodeMeshMaxRestartTime; 120s by default) runs out, so pods on other
// nodes keep reaching this node's pods while its agent restarts
// (invariant 6). Routes learned from peers are not withdrawn from the
// kernel either. A later Apply starts a new server.
func (s *Speaker) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping.Store(true)
	if s.running {
		s.freezeExports(ctx)
	}
	return s.stopLocked(ctx, true)
}

// freezeExports makes the server send no more UPDATEs. GoBGP's StopBgp
// closes sessions one after another and drops each closed session's
// routes from its RIB; without this, the peers still connected would be
// sent withdrawals for them (a route reflector stopping would withdraw
// every reflected route from the clients it has not closed yet). With the
// global export policy rejecting everything, a route that changes is
// rejected both as the new and as the old path, and nothing is sent.
func (s *Speaker) freezeExports(ctx context.Context) {
	err := s.srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name: "global", Direction: api.PolicyDirection_POLICY_DIRECTION_EXPORT,
		DefaultAction: api.RouteAction_ROUTE_ACTION_REJECT,
	}})
	if err != nil {
		s.log.Warn("could not stop exports before closing the BGP sessions; peers may see withdrawals", "err", err)
	}
}

// reconcilePeers deletes peers no longer desired, adds new ones and
// replaces changed ones. GoBGP keys peers by address, so a changed port or
// password means delete then add (the session restarts either way).
func (s *Speaker) reconcilePeers(ctx context.Context, d *Desired) error {
	want := make(map[netip.Addr]Peer, len(d.Peers))
	for _, p := range d.Peers {
		if _, dup := want[p.Address]; !dup {
			want[p.Address] = p
		}
	}
	var errs []error
	for addr, have := range s.peers {
		w, ok := want[addr]
		if ok && sessionEqual(w, have) {
			continue
		}
		if err := s.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
			errs = append(errs, fmt.Errorf("delete peer %s (%s): %w", addr, have.Name, err))
			continue
		}
		delete(s.peers, addr)
		s.stateMu.Lock()
		delete(s.since, addr)
		s.stateMu.Unlock()
		s.log.Info("BGP peer removed", "peer", have.Name, "address", addr)
	}
	addrs := make([]netip.Addr, 0, len(want))
	for a := range want {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, addr := range addrs {
		if _, ok := s.peers[addr]; ok {
			continue
		}
		p := want[addr]
		if err := s.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: s.apiPeer(d, p)}); err != nil {
			errs = append(errs, fmt.Errorf("add peer %s (%s): %w", addr, p.Name, err))
			continue
		}
		s.peers[addr] = p
		s.log.Info("BGP peer added", "peer", p.Name, "address", addr, "port", p.Port, "asn", p.ASN, "type", p.Type)
	}
	return joinErrs(errs)
}

// apiPeer maps a desired peer onto GoBGP's peer configuration.
func (s *Speaker) apiPeer(d *Desired, p Peer) *api.Peer {
	fam := familyOf(p.Address)
	restart := uint32(p.MaxRestartTime / time.Second)
	ap := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.Address.String(),
			PeerAsn:         p.ASN,
			LocalAsn:        p.LocalASN,
			AuthPassword:    p.Password,
			AllowOwnAsn:     p.NumAllowedLocalASNumbers,
			Description:     p.Name,
		},
		Transport: &api.Transport{
			RemotePort:  uint32(p.Port),
			PassiveMode: p.Passive,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:           uint64(s.cfg.ConnectRetry / time.Second),
			HoldTime:               uint64(s.cfg.HoldTime / time.Second),
			KeepaliveInterval:      uint64(s.cfg.HoldTime / time.Second / 3),
			IdleHoldTimeAfterReset: 1,
		}},
		GracefulRestart: &api.GracefulRestart{Enabled: restart > 0, RestartTime: restart},
		AfiSafis: []*api.AfiSafi{{
			Config:            &api.AfiSafiConfig{Family: fam, Enabled: true},
			MpGracefulRestart: &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: restart > 0}},
		}},
	}
	if p.SourceAddress.IsValid() {
		ap.Transport.LocalAddress = p.SourceAddress.String()
	}
	if p.RRClient {
		cid := d.RouteReflectorClusterID
		ap.RouteReflector = &api.RouteReflector{RouteReflectorClient: true, RouteReflectorClusterId: cid}
	}
	if p.TTLSecurity > 0 {
		ap.TtlSecurity = &api.TtlSecurity{Enabled: true, TtlMin: uint32(256 - int(p.TTLSecurity))}
	} else if p.External(d.ASN) && !p.Address.IsLinkLocalUnicast() {
		// Calico's BIRD peers with eBGP neighbours that may sit behind a
		// router (multihop); directly connected peers are unaffected.
		ap.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: 255}
	}
	return ap
}

func familyOf(a netip.Addr) *api.Family {
	if a.Is4() {
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
}

// onPeerUpdate records when each peer's state last changed (the SINCE
// column of calicoctl node status).
func (s *Speaker) onPeerUpdate(ev *apiutil.WatchEventMessage_PeerEvent, ts time.Time) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	s.since[ev.Peer.State.NeighborAddress] = ts
}

// sessionEqual compares what the session itself is configured with;
// next-hop modes and filters live in the global policies, so changing them
// does not restart the session.
func sessionEqual(a, b Peer) bool {
	for _, p := range []*Peer{&a, &b} {
		p.Filters, p.KeepOriginalNextHop, p.NextHopSelf = nil, false, false
	}
	return reflect.DeepEqual(a, b)
}

func nonNil(errs ...error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

func joinErrs(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	msg := errs[0].Error()
	for _, e := range errs[1:] {
		msg += "; " + e.Error()
	}
	return fmt.Errorf("%s", msg)
}
