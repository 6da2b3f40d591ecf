package wlroute

import (
	"context"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Watch subscribes to link and route changes in the calling thread's
// network namespace and calls kick (from its own goroutine) when a
// workload interface appears or changes, or a route on one is deleted, so
// the owner can Resync and Apply at once instead of waiting for the
// periodic resync. It returns after subscribing; the subscriptions end
// with ctx.
func (m *Manager) Watch(ctx context.Context, kick func()) error {
	links := make(chan netlink.LinkUpdate, 64)
	routes := make(chan netlink.RouteUpdate, 64)
	done := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{ListExisting: true}); err != nil {
		close(done)
		return fmt.Errorf("workload routes: subscribing to link changes: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(routes, done, netlink.RouteSubscribeOptions{}); err != nil {
		close(done)
		return fmt.Errorf("workload routes: subscribing to route changes: %w", err)
	}
	names := map[int]string{} // link index → name, learnt from link updates
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-links:
				if !ok {
					return
				}
				names[int(u.Index)] = u.Attrs().Name
				if strings.HasPrefix(u.Attrs().Name, m.cfg.InterfacePrefix) {
					kick()
				}
			case u, ok := <-routes:
				if !ok {
					return
				}
				if u.Type != unix.RTM_DELROUTE {
					continue
				}
				if name, known := names[u.LinkIndex]; !known || strings.HasPrefix(name, m.cfg.InterfacePrefix) {
					kick() // unknown index: the periodic resync would find it anyway; be prompt
				}
			}
		}
	}()
	return nil
}
