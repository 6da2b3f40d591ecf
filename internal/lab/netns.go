package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/tricolor-net/tricolor/internal/relay"

	"github.com/containernetworking/plugins/pkg/ns"
)

// ipCmd runs `ip args…` and returns its output; the error carries the
// command and what ip printed.
func ipCmd(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ipIn runs `ip -n <netns> args…`.
func ipIn(ctx context.Context, netns string, args ...string) error {
	_, err := ipCmd(ctx, append([]string{"-n", netns}, args...)...)
	return err
}

// execIn runs a command inside a namespace (`ip netns exec`) and returns
// its combined output.
func execIn(ctx context.Context, netns string, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", netns, name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s %s: %v: %s", netns, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// sysctlIn sets a sysctl inside a namespace.
func sysctlIn(ctx context.Context, netns, kv string) error {
	_, err := execIn(ctx, netns, "sysctl", "-q", "-w", kv)
	return err
}

// addNetns creates a namespace with its loopback up.
func addNetns(ctx context.Context, name string) error {
	if _, err := ipCmd(ctx, "netns", "add", name); err != nil {
		return err
	}
	return ipIn(ctx, name, "link", "set", "lo", "up")
}

// netnsExists reports whether /run/netns/<name> exists.
func netnsExists(name string) bool {
	_, err := os.Stat(NetnsPath(name))
	return err == nil
}

// listNetns returns the named namespaces starting with prefix.
func listNetns(prefix string) ([]string, error) {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// dialIn opens a TCP connection from inside a namespace. The socket is
// created on a thread locked into the namespace and stays there; the
// caller's goroutine never changes namespace.
func dialIn(ctx context.Context, netns, addr string) (net.Conn, error) {
	return dialNetIn(ctx, netns, "tcp", addr)
}

// dialNetIn is dialIn for any network ("tcp", "udp").
func dialNetIn(ctx context.Context, netns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.WithNetNSPath(NetnsPath(netns), func(ns.NetNS) error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("connect to %s inside %s: %w", addr, netns, err)
	}
	return c, nil
}

// listenIn opens a TCP listener inside a namespace.
func listenIn(netns, addr string) (net.Listener, error) {
	var ln net.Listener
	err := ns.WithNetNSPath(NetnsPath(netns), func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s inside %s: %w", addr, netns, err)
	}
	return ln, nil
}

// listenPacketIn opens a UDP socket inside a namespace.
func listenPacketIn(netns, addr string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := ns.WithNetNSPath(NetnsPath(netns), func(ns.NetNS) error {
		var err error
		pc, err = net.ListenPacket("udp", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on udp %s inside %s: %w", addr, netns, err)
	}
	return pc, nil
}

// forwardFromLoopback listens on the root namespace's loopback (no address
// or route is added anywhere) and connects each accepted connection to
// target inside netns. It returns the local address and a stop function.
func forwardFromLoopback(netns, target string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("forwarder to %s in %s: %w", target, netns, err)
	}
	stop := relay.Serve(ln, func(ctx context.Context) (net.Conn, error) { return dialIn(ctx, netns, target) })
	return ln.Addr().String(), stop, nil
}

// execInEnv is execIn with a complete environment.
func execInEnv(ctx context.Context, netns string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", netns, name}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("in %s: %s %s: %v: %s", netns, name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
