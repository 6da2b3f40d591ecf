package cni

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tricolor-net/tricolor/internal/ipam"
)

// rollbackTimeout bounds how long a failed ADD keeps trying to release
// what it took, riding out a short datastore outage.
const rollbackTimeout = 20 * time.Second

// assignAddrs is calico-ipam's ADD: the workload's requested addresses, or
// one address per enabled family from the config's (or annotation's)
// pools. Addresses a previous ADD of the same container left on the handle
// are released first, so a repeated ADD replaces rather than leaks.
func assignAddrs(ctx context.Context, m *ipam.IPAM, conf *NetConf, w *Workload, log *slog.Logger) ([]netip.Addr, error) {
	handle := w.HandleID()
	if old, err := m.ReleaseByHandle(ctx, handle); err == nil && len(old) > 0 {
		log.Info("released addresses of a previous ADD for this container", "handle", handle, "addrs", old)
	} else if err != nil && !errors.Is(err, ipam.ErrNoSuchAllocation) {
		return nil, fmt.Errorf("release previous addresses of handle %s: %w", handle, err)
	}
	if len(w.RequestedIPs) > 0 {
		var out []netip.Addr
		for _, ip := range w.RequestedIPs {
			if _, err := m.AssignIP(ctx, ipam.AssignIPArgs{IP: ip, HandleID: handle, Attrs: w.IPAMAttrs(), Hostname: w.Node}); err != nil {
				if len(out) > 0 {
					_, _ = m.ReleaseByHandle(context.WithoutCancel(ctx), handle)
				}
				return nil, fmt.Errorf("assign requested address %s: %w", ip, err)
			}
			out = append(out, ip)
		}
		return out, nil
	}
	args := ipam.AutoAssignArgs{HandleID: handle, Attrs: w.IPAMAttrs(), Hostname: w.Node,
		IPv4Pools: conf.IPAM.IPv4Pools, IPv6Pools: conf.IPAM.IPv6Pools}
	if len(w.IPv4Pools) > 0 {
		args.IPv4Pools = w.IPv4Pools
	}
	if len(w.IPv6Pools) > 0 {
		args.IPv6Pools = w.IPv6Pools
	}
	if conf.IPAM.WantIPv4() {
		args.Num4 = 1
	}
	if conf.IPAM.WantIPv6() {
		args.Num6 = 1
	}
	v4, v6, err := m.AutoAssign(ctx, args)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range []*ipam.Assignment{v4, v6} {
		if a != nil {
			out = append(out, a.Addrs()...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("IPAM assigned no address for handle %s", handle)
	}
	return out, nil
}

// releaseHandle is calico-ipam's DEL: a handle that holds nothing is fine.
func releaseHandle(ctx context.Context, m *ipam.IPAM, handle string) ([]netip.Addr, error) {
	addrs, err := m.ReleaseByHandle(ctx, handle)
	if err != nil && !errors.Is(err, ipam.ErrNoSuchAllocation) {
		return nil, fmt.Errorf("release IPAM handle %s: %w", handle, err)
	}
	return addrs, nil
}

// retry runs f until it succeeds or timeout passes, backing off; the last
// error is returned.
func retry(ctx context.Context, timeout time.Duration, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		octx, ocancel := context.WithTimeout(ctx, 3*time.Second)
		err := f(octx)
		ocancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		if wait < time.Second {
			wait *= 2
		}
	}
}
