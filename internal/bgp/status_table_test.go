package bgp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestWriteStatusTable_PrintsCalicosLayout(t *testing.T) {
	since := time.Date(2026, 1, 2, 23, 30, 4, 0, time.UTC)
	st := []PeerStatus{
		{Peer: Peer{Address: netip.MustParseAddr("198.18.0.12"), Type: PeerTypeMesh}, State: "Established", Info: "Established", Since: since},
		{Peer: Peer{Address: netip.MustParseAddr("198.18.0.254"), Type: PeerTypeGlobal}, State: "Active", Info: "Socket: connection refused", Since: since},
	}
	var b strings.Builder
	if err := WriteStatusTable(&b, st); err != nil {
		t.Fatal(err)
	}
	want := `IPv4 BGP status
+--------------+-------------------+-------+----------+-----------------------------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |               INFO                |
+--------------+-------------------+-------+----------+-----------------------------------+
| 198.18.0.12  | node-to-node mesh | up    | 23:30:04 | Established                       |
| 198.18.0.254 | global            | start | 23:30:04 | Active Socket: connection refused |
+--------------+-------------------+-------+----------+-----------------------------------+

IPv6 BGP status
No IPv6 peers found.
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
