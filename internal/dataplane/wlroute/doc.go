// Package wlroute programs the device routes of local workloads:
// <podIP>/32 (/128) dev cali<X> scope link, one per address of every local
// WorkloadEndpoint whose interface exists. The CNI plugin adds the same
// route at ADD; Felix owns it afterwards: it restores a route deleted by
// hand (periodic resync and netlink change detection, logged as drift),
// adds it when the interface appears after the endpoint, and — only after
// the calc graph is in sync — removes host routes on cali* interfaces that
// no local endpoint wants. Routes on other interfaces are never touched.
package wlroute
