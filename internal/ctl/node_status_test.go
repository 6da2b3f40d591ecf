package ctl

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/bgp"
)

func TestNodeStatus_PrintsCalicosReportFromTheSocket(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(bgp.RunDirEnv, dir)
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv, err := bgp.ListenStatus(filepath.Join(dir, bgp.StatusSocketName), func(context.Context) ([]bgp.PeerStatus, error) {
		return []bgp.PeerStatus{
			{Peer: bgp.Peer{Address: netip.MustParseAddr("198.18.0.12"), Type: bgp.PeerTypeMesh}, State: "Established", Since: since, Info: "Established"},
			{Peer: bgp.Peer{Address: netip.MustParseAddr("198.18.0.1"), Type: bgp.PeerTypeGlobal}, State: "Active", Since: since, Info: "Socket: no answer from peer"},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)

	var out, errOut bytes.Buffer
	if code := Main([]string{"node", "status"}, Options{Stdout: &out, Stderr: &errOut}); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut.String())
	}
	want := `Calico process is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+------------------------------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |                INFO                |
+--------------+-------------------+-------+----------+------------------------------------+
| 198.18.0.12  | node-to-node mesh | up    | 03:04:05 | Established                        |
| 198.18.0.1   | global            | start | 03:04:05 | Active Socket: no answer from peer |
+--------------+-------------------+-------+----------+------------------------------------+

IPv6 BGP status
No IPv6 peers found.
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

func TestNodeStatus_NoSocketSaysNotRunningAndExits1(t *testing.T) {
	t.Setenv(bgp.RunDirEnv, t.TempDir())
	var out, errOut bytes.Buffer
	if code := Main([]string{"node", "status"}, Options{Stdout: &out, Stderr: &errOut}); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out.String() != "Calico process is not running.\n" {
		t.Errorf("stdout %q", out.String())
	}
	if !strings.Contains(errOut.String(), bgp.RunDirEnv) {
		t.Errorf("stderr %q does not say how to point calicoctl at the node", errOut.String())
	}
}
