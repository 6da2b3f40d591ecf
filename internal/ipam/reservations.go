package ipam

import "net/netip"

// reservations are the IPReservation CIDRs in force for one request.
type reservations []netip.Prefix

// contains reports whether addr is reserved.
func (r reservations) contains(addr netip.Addr) bool {
	for _, p := range r {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// overlaps reports whether any reserved CIDR overlaps p.
func (r reservations) overlaps(p netip.Prefix) bool {
	for _, x := range r {
		if x.Overlaps(p) {
			return true
		}
	}
	return false
}

// coversAll reports whether one reserved CIDR covers all of p.
func (r reservations) coversAll(p netip.Prefix) bool {
	for _, x := range r {
		if x.Bits() <= p.Bits() && x.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
