package bgp

import (
	"fmt"
	"io"
	"strings"
)

// BIRDState is the STATE column calicoctl prints: BIRD's protocol state,
// "up" for an established session and "start" while it is being brought up.
func (p PeerStatus) BIRDState() string {
	if p.Established() {
		return "up"
	}
	return "start"
}

// infoColumn is the INFO column: "Established", or the BGP state followed
// by why (as BIRD prints "Active Socket: Connection refused").
func (p PeerStatus) infoColumn() string {
	if p.Established() || p.Info == "" {
		return p.State
	}
	return p.State + " " + p.Info
}

// WriteStatusTable prints peer states the way `calicoctl node status`
// does: one table per address family, or "No IPv4 peers found." when a
// family has none. SINCE is the time of the last state change (UTC).
func WriteStatusTable(w io.Writer, statuses []PeerStatus) error {
	var b strings.Builder
	for i, fam := range []struct {
		name string
		v4   bool
	}{{"IPv4", true}, {"IPv6", false}} {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s BGP status\n", fam.name)
		rows := [][]string{{"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"}}
		for _, s := range statuses {
			if s.Peer.Address.Is4() != fam.v4 {
				continue
			}
			since := ""
			if !s.Since.IsZero() {
				since = s.Since.UTC().Format("15:04:05")
			}
			rows = append(rows, []string{s.Peer.Address.String(), string(s.Peer.Type), s.BIRDState(), since, s.infoColumn()})
		}
		if len(rows) == 1 {
			fmt.Fprintf(&b, "No %s peers found.\n", fam.name)
			continue
		}
		writeTable(&b, rows)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable renders rows as an ASCII table with centred headers, the
// style of the table library calicoctl uses.
func writeTable(b *strings.Builder, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	sep := "+"
	for _, w := range widths {
		sep += strings.Repeat("-", w+2) + "+"
	}
	b.WriteString(sep + "\n")
	for ri, r := range rows {
		b.WriteString("|")
		for i, c := range r {
			pad := widths[i] - len(c)
			left := 0
			if ri == 0 {
				left = pad / 2
			}
			b.WriteString(" " + strings.Repeat(" ", left) + c + strings.Repeat(" ", pad-left) + " |")
		}
		b.WriteString("\n")
		if ri == 0 {
			b.WriteString(sep + "\n")
		}
	}
	b.WriteString(sep + "\n")
}
