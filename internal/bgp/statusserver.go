package bgp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// DefaultRunDir is where calico-node puts its status socket, as Calico
// keeps BIRD's control socket under /var/run/calico.
const DefaultRunDir = "/var/run/calico"

// RunDirEnv overrides DefaultRunDir for calico-node and calicoctl (tests
// and labs running several nodes on one host).
const RunDirEnv = "TRICOLOR_RUN_DIR"

// StatusSocketName is the status socket's file name inside the run dir.
const StatusSocketName = "bgp.sock"

// StatusSocketPath returns the status socket path from the environment
// (getenv is os.Getenv outside tests).
func StatusSocketPath(getenv func(string) string) string {
	dir := getenv(RunDirEnv)
	if dir == "" {
		dir = DefaultRunDir
	}
	return filepath.Join(dir, StatusSocketName)
}

// StatusRow is one peer as the status socket reports it: what calicoctl
// prints, and nothing secret (no password).
type StatusRow struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	Type    PeerType   `json:"type"`
	State   string     `json:"state"`
	Since   time.Time  `json:"since,omitzero"`
	Info    string     `json:"info,omitempty"`
}

// statusReply is the JSON body of GET /status.
type statusReply struct {
	Peers []StatusRow `json:"peers"`
}

// rowOf drops what must not leave the process.
func rowOf(s PeerStatus) StatusRow {
	return StatusRow{Name: s.Peer.Name, Address: s.Peer.Address, Type: s.Peer.Type, State: s.State, Since: s.Since, Info: s.Info}
}

// PeerStatus turns a row back into the renderer's input.
func (r StatusRow) PeerStatus() PeerStatus {
	return PeerStatus{Peer: Peer{Name: r.Name, Address: r.Address, Type: r.Type}, State: r.State, Since: r.Since, Info: r.Info}
}

// StatusFunc reports the peers' states (Agent.Status).
type StatusFunc func(ctx context.Context) ([]PeerStatus, error)

// StatusServer serves GET /status on a unix socket for `calicoctl node
// status`. The socket is only reachable on this host (file permissions
// 0660, owner root), like BIRD's control socket.
type StatusServer struct {
	ln     net.Listener
	path   string
	status StatusFunc
}

// ListenStatus binds the socket at path, creating its directory and
// replacing a stale socket left by a previous run.
func ListenStatus(path string, status StatusFunc) (*StatusServer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("BGP status socket %s: create its directory: %w (set %s to a writable directory)", path, err, RunDirEnv)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("BGP status socket %s: a non-socket file is in the way; remove it or set %s", path, RunDirEnv)
		}
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("BGP status socket %s: %w (set %s to a writable directory)", path, err, RunDirEnv)
	}
	_ = os.Chmod(path, 0o660)
	return &StatusServer{ln: ln, path: path, status: status}, nil
}

// Path is the socket's path.
func (s *StatusServer) Path() string { return s.path }

// Serve answers until ctx ends, then closes and removes the socket.
func (s *StatusServer) Serve(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		rep := statusReply{Peers: make([]StatusRow, 0, len(st))}
		for _, p := range st {
			rep.Peers = append(rep.Peers, rowOf(p))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rep)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(s.ln)
	_ = os.Remove(s.path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// QueryStatus asks the calico-node behind the socket at path for its peer
// states. An error means no BGP agent answered there.
func QueryStatus(ctx context.Context, path string) ([]PeerStatus, error) {
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://calico-node/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("BGP status socket %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b [512]byte
		n, _ := resp.Body.Read(b[:])
		return nil, fmt.Errorf("BGP status socket %s: %s: %s", path, resp.Status, string(b[:n]))
	}
	var rep statusReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("BGP status socket %s: undecodable reply: %w", path, err)
	}
	out := make([]PeerStatus, len(rep.Peers))
	for i, r := range rep.Peers {
		out[i] = r.PeerStatus()
	}
	return out, nil
}
