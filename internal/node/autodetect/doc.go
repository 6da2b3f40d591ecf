// Package autodetect finds this host's node IP the way calico-node does:
// IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD (first-found,
// can-reach=, interface=, skip-interface=, cidr=) over the host's
// interfaces, listed through netlink in the caller's network namespace.
//
// Detection is a pure function of an interface list (ListFunc) and, for
// can-reach, of the source address the kernel picks for a destination
// (ReachFunc), so every method is unit-tested against fake lists; the
// netlink and UDP-"connect" implementations are tested in a fresh network
// namespace.
//
// Imports: the standard library and github.com/vishvananda/netlink only.
//
//	Method ──► Detect(version, list, reach)
//	              │ first-found / skip-interface: every interface minus the
//	              │   default exclusions (docker*, cali*, vxlan.calico, ...)
//	              │ interface=: only matching names; cidr=: only matching addrs
//	              │ can-reach=: source address of a UDP connect, then its prefix
//	              ▼
//	           Result{Interface, Addr (address/prefix, host bits kept)}
package autodetect
