// Package ipip is Felix's IPIP manager: it keeps the kernel's IPv4-in-IPv4
// device tunl0 configured (up, MTU, the node's IPIP tunnel address as /32)
// while some IPv4 pool has ipipMode Always or CrossSubnet, as Calico's
// Felix does.
//
// The routes over tunl0 (`<block> via <node IP> dev tunl0 onlink`) are not
// programmed here: in BGP mode Calico has BIRD install them, and in
// Tricolor the BGP route installer (internal/bgp) does, from the same pool
// modes (see bgp.TunnelPolicy).
//
// Kernels without the ipip module cannot create tunl0; Apply then fails
// with an error wrapping ErrNoIPIPModule ("kernel has no ipip module: …").
package ipip
