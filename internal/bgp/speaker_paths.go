package bgp

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// reconcilePaths withdraws advertisements no longer desired and adds new
// or changed ones (a re-add replaces the old path: same prefix, same local
// source). A changed node address changes every path's next hop, so all
// are re-added.
func (s *Speaker) reconcilePaths(d *Desired) error {
	nh := [2]netip.Addr{d.IPv4, d.IPv6}
	if nh != s.nextHop {
		clear(s.paths) // re-add everything below with the new next hop
		s.nextHop = nh
	}
	want := make(map[netip.Prefix]Advertisement, len(d.Advertisements))
	for _, a := range d.Advertisements {
		want[a.Prefix] = a
	}
	var errs []error
	for p, have := range s.paths {
		if _, ok := want[p]; ok {
			continue
		}
		path, err := s.apiPath(have)
		if err == nil {
			err = s.srv.DeletePath(apiutil.DeletePathRequest{Paths: []*apiutil.Path{path}})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("withdraw %s: %w", p, err))
			continue
		}
		delete(s.paths, p)
	}
	var add []*apiutil.Path
	var added []Advertisement
	for _, a := range d.Advertisements {
		if have, ok := s.paths[a.Prefix]; ok && reflect.DeepEqual(have, a) {
			continue
		}
		path, err := s.apiPath(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("advertise %s: %w", a.Prefix, err))
			continue
		}
		add = append(add, path)
		added = append(added, a)
	}
	if len(add) > 0 {
		resps, err := s.srv.AddPath(apiutil.AddPathRequest{Paths: add})
		for i, a := range added {
			if i < len(resps) && resps[i].Error != nil {
				errs = append(errs, fmt.Errorf("advertise %s: %w", a.Prefix, resps[i].Error))
				continue
			}
			if err == nil || (i < len(resps) && resps[i].Error == nil) {
				s.paths[a.Prefix] = a
			}
		}
		if err != nil && len(resps) == 0 {
			errs = append(errs, fmt.Errorf("advertise %d prefixes: %w", len(add), err))
		}
	}
	return joinErrs(errs)
}

// apiPath builds the GoBGP path for an advertisement: origin IGP, our
// address as next hop, and its communities.
func (s *Speaker) apiPath(a Advertisement) (*apiutil.Path, error) {
	nlri, err := bgp.NewIPAddrPrefix(a.Prefix)
	if err != nil {
		return nil, err
	}
	fam, nh := bgp.RF_IPv4_UC, s.nextHop[0]
	if a.Prefix.Addr().Is6() {
		fam, nh = bgp.RF_IPv6_UC, s.nextHop[1]
	}
	if !nh.IsValid() {
		return nil, fmt.Errorf("no local address of the prefix's family to use as next hop")
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	if fam == bgp.RF_IPv4_UC {
		a, err := bgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	} else {
		mp, err := bgp.NewPathAttributeMpReachNLRI(fam, []bgp.PathNLRI{{NLRI: nlri}}, nh)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, mp)
	}
	std, large, err := parseCommunities(a.Communities)
	if err != nil {
		return nil, err
	}
	if len(std) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(std))
	}
	if len(large) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeLargeCommunities(large))
	}
	return &apiutil.Path{Family: fam, Nlri: nlri, Attrs: attrs, Age: time.Now().Unix()}, nil
}

// parseCommunities splits "aa:nn" (16-bit parts) and "aa:nn:mm" (32-bit
// parts) values.
func parseCommunities(vals []string) ([]uint32, []*bgp.LargeCommunity, error) {
	var std []uint32
	var large []*bgp.LargeCommunity
	for _, v := range vals {
		parts := strings.Split(v, ":")
		switch len(parts) {
		case 2:
			hi, err1 := strconv.ParseUint(parts[0], 10, 16)
			lo, err2 := strconv.ParseUint(parts[1], 10, 16)
			if err1 != nil || err2 != nil {
				return nil, nil, fmt.Errorf("community %q: parts must be 0-65535 (aa:nn)", v)
			}
			std = append(std, uint32(hi)<<16|uint32(lo))
		case 3:
			var n [3]uint32
			for i, p := range parts {
				x, err := strconv.ParseUint(p, 10, 32)
				if err != nil {
					return nil, nil, fmt.Errorf("large community %q: parts must be 0-4294967295 (aa:nn:mm)", v)
				}
				n[i] = uint32(x)
			}
			large = append(large, bgp.NewLargeCommunity(n[0], n[1], n[2]))
		default:
			return nil, nil, fmt.Errorf("community %q is neither aa:nn nor aa:nn:mm", v)
		}
	}
	return std, large, nil
}

// onBestPath turns GoBGP best-path events into LearnedRoutes. A path we
// originate ourselves (no source peer) becoming best is reported as a
// withdrawal: our own prefixes are in the Desired already and must never
// become learned kernel routes (e.g. a service CIDR every node advertises).
func (s *Speaker) onBestPath(paths []*apiutil.Path, _ time.Time) {
	if s.cfg.OnBestPaths == nil || s.stopping.Load() {
		return
	}
	var out []LearnedRoute
	for _, p := range paths {
		pfx, ok := nlriPrefix(p.Nlri)
		if !ok {
			continue
		}
		if !p.PeerAddress.IsValid() {
			// Our own path is now best (or gone): whatever we learned for
			// the prefix is no longer the route to install.
			out = append(out, LearnedRoute{Prefix: pfx, Withdrawn: true})
			continue
		}
		r := LearnedRoute{Prefix: pfx, Peer: p.PeerAddress, Withdrawn: p.Withdrawal}
		if !p.Withdrawal {
			r.NextHop = pathNextHop(p)
			if !r.NextHop.IsValid() {
				continue
			}
		}
		out = append(out, r)
	}
	if len(out) > 0 {
		s.cfg.OnBestPaths(out)
	}
}

func nlriPrefix(n bgp.NLRI) (netip.Prefix, bool) {
	if p, ok := n.(*bgp.IPAddrPrefix); ok {
		return p.Prefix, true
	}
	return netip.Prefix{}, false
}

func pathNextHop(p *apiutil.Path) netip.Addr {
	for _, a := range p.Attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeNextHop:
			return a.Value
		case *bgp.PathAttributeMpReachNLRI:
			return a.Nexthop
		}
	}
	return netip.Addr{}
}
