package bgp

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStatusServer_ServesPeersWithoutSecrets(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := []PeerStatus{
		{Peer: Peer{Name: "Mesh_198_18_0_12", Address: netip.MustParseAddr("198.18.0.12"), Type: PeerTypeMesh, Password: "s3cret"}, State: "Established", Since: since, Info: "Established"},
		{Peer: Peer{Name: "Global_fd00__1", Address: netip.MustParseAddr("fd00::1"), Type: PeerTypeGlobal}, State: "Active", Info: "Socket: no answer from peer"},
	}
	path := filepath.Join(t.TempDir(), "run", StatusSocketName)
	srv, err := ListenStatus(path, func(context.Context) ([]PeerStatus, error) { return want, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	got, err := QueryStatus(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d peers, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Peer = Peer{Name: w.Peer.Name, Address: w.Peer.Address, Type: w.Peer.Type}
		if got[i].Peer.Name != w.Peer.Name || got[i].Peer.Address != w.Peer.Address || got[i].Peer.Type != w.Peer.Type || got[i].Peer.Password != "" || got[i].State != w.State || !got[i].Since.Equal(w.Since) || got[i].Info != w.Info {
			t.Errorf("peer %d = %+v, want %+v", i, got[i], w)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket %s still there after Serve returned (err %v)", path, err)
	}
}

func TestStatusServer_ReportsSpeakerErrorsAndMissingSocket(t *testing.T) {
	dir := t.TempDir()
	if _, err := QueryStatus(context.Background(), filepath.Join(dir, "none.sock")); err == nil {
		t.Fatal("QueryStatus on a missing socket succeeded")
	}
	path := filepath.Join(dir, StatusSocketName)
	// A stale socket file from a previous run is replaced.
	stale, err := ListenStatus(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	stale.ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	stale.ln.Close()
	srv, err := ListenStatus(path, func(context.Context) ([]PeerStatus, error) { return nil, errors.New("speaker stopped") })
	if err != nil {
		t.Fatalf("rebinding over a stale socket: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	_, err = QueryStatus(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "speaker stopped") {
		t.Fatalf("err = %v, want the speaker's error", err)
	}
}

func TestStatusSocketPath_HonoursRunDirEnv(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", "/var/run/calico/bgp.sock"},
		{"/tmp/lab/node-a", "/tmp/lab/node-a/bgp.sock"},
	} {
		got := StatusSocketPath(func(k string) string {
			if k == RunDirEnv {
				return tc.env
			}
			return ""
		})
		if got != tc.want {
			t.Errorf("env %q: got %s, want %s", tc.env, got, tc.want)
		}
	}
}

func TestPeersReady_FollowsCalicosBirdReadyRule(t *testing.T) {
	up := PeerStatus{Peer: Peer{Address: netip.MustParseAddr("198.18.0.12")}, State: "Established"}
	down := PeerStatus{Peer: Peer{Address: netip.MustParseAddr("198.18.0.13")}, State: "Active"}
	for _, tc := range []struct {
		name   string
		st     []PeerStatus
		ready  bool
		detail string
	}{
		{"no peers", nil, true, ""},
		{"all up", []PeerStatus{up}, true, ""},
		{"one down", []PeerStatus{up, down}, false, "BGP not established with 198.18.0.13"},
	} {
		ready, detail := peersReady(tc.st)
		if ready != tc.ready || detail != tc.detail {
			t.Errorf("%s: got (%v, %q), want (%v, %q)", tc.name, ready, detail, tc.ready, tc.detail)
		}
	}
}
