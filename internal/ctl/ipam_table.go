package ctl

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// boxTable renders the boxed tables calicoctl's ipam commands print (drawn
// there by olekukonko/tablewriter with its defaults), so scripts that parse
// `calicoctl ipam show` keep working:
//
//	+----------+-------------+-----------+------------+--------------+
//	| GROUPING |    CIDR     | IPS TOTAL | IPS IN USE |   IPS FREE   |
//	+----------+-------------+-----------+------------+--------------+
//	| IP Pool  | 10.0.0.0/16 |     65536 | 5 (0%)     | 65531 (100%) |
//	+----------+-------------+-----------+------------+--------------+
//
// Headings are centred (the left gap is the smaller one); cells that are
// plain numbers are right-aligned, everything else left-aligned.
type boxTable struct {
	header []string
	rows   [][]string
}

// numberCell matches the cells tablewriter right-aligns: integers (with
// optional thousands separators) and decimals.
var numberCell = regexp.MustCompile(`^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$`)

func (t *boxTable) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *boxTable) render(w io.Writer) {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var line strings.Builder
	line.WriteString("+")
	for _, n := range widths {
		line.WriteString(strings.Repeat("-", n+2) + "+")
	}
	sep := line.String()

	fmt.Fprintln(w, sep)
	t.row(w, t.header, widths, func(s string, n int) string {
		gap := n - utf8.RuneCountInString(s)
		return strings.Repeat(" ", gap/2) + s + strings.Repeat(" ", gap-gap/2)
	})
	fmt.Fprintln(w, sep)
	for _, r := range t.rows {
		t.row(w, r, widths, func(s string, n int) string {
			pad := strings.Repeat(" ", n-utf8.RuneCountInString(s))
			if numberCell.MatchString(strings.TrimSpace(s)) {
				return pad + s
			}
			return s + pad
		})
	}
	fmt.Fprintln(w, sep)
}

func (t *boxTable) row(w io.Writer, cells []string, widths []int, align func(string, int) string) {
	var b strings.Builder
	b.WriteString("|")
	for i, n := range widths {
		c := ""
		if i < len(cells) {
			c = cells[i]
		}
		b.WriteString(" " + align(c, n) + " |")
	}
	fmt.Fprintln(w, b.String())
}
