package testutil

import (
	"testing"

	"github.com/vishvananda/netlink"
)

// TestPrivilegedNetns_NetlinkActsInsideNamespace creates a veth pair
// through the handle and finds it with `ip -n`, so the handle works in the
// test's namespace, not the root one.
func TestPrivilegedNetns_NetlinkActsInsideNamespace(t *testing.T) {
	RequireRoot(t)
	ns := NewNetns(t, "nl")
	h := ns.Netlink(t)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "tcnl0"}, PeerName: "tcnl1"}); err != nil {
		t.Fatalf("add veth through the handle: %v", err)
	}
	ns.IP(t, "link", "show", "tcnl0")
	if _, err := Run("ip", "link", "show", "tcnl0"); err == nil {
		t.Fatal("tcnl0 appeared in the root namespace")
	}
}
