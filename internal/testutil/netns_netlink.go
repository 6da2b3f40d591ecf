package testutil

import (
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Netlink returns a netlink handle whose requests act inside the namespace
// (for code under test that takes a *netlink.Handle, such as the dataplane
// managers). It is closed in t.Cleanup.
func (n *Netns) Netlink(t testing.TB) *netlink.Handle {
	t.Helper()
	nsh, err := netns.GetFromName(n.Name)
	if err != nil {
		t.Fatalf("open namespace %s: %v", n.Name, err)
	}
	// The handle's sockets are bound to the namespace when created; the
	// namespace file is not needed afterwards.
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatalf("netlink handle in namespace %s: %v", n.Name, err)
	}
	t.Cleanup(h.Close)
	return h
}
