package lab

import (
	"context"
	"net"
)

// DialIn opens a connection ("tcp" or "udp") from inside the named network
// namespace (any namespace under /run/netns, not only a lab's). The socket
// is created on a thread locked into the namespace and stays there; the
// caller's goroutine never changes namespace. Benchmarks and tests use it
// to drive traffic between pods without a process per connection.
func DialIn(ctx context.Context, netns, network, addr string) (net.Conn, error) {
	return dialNetIn(ctx, netns, network, addr)
}

// ListenIn opens a TCP listener inside the named network namespace.
func ListenIn(netns, addr string) (net.Listener, error) {
	return listenIn(netns, addr)
}
