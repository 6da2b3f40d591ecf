package testutil

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/tricolor-net/tricolor/internal/relay"
)

// cloneNewNet is CLONE_NEWNET, the namespace type setns(2) is asked for.
const cloneNewNet = 0x40000000

// ListenInNetns opens a TCP listener inside the network namespace at
// nsPath (e.g. /run/netns/<name>). The socket stays in that namespace;
// Accept may be called from any goroutine. The switch happens on a locked
// OS thread of a goroutine of its own, so no other goroutine ever runs in
// the namespace.
func ListenInNetns(nsPath, addr string) (net.Listener, error) {
	type res struct {
		ln  net.Listener
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer orig.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer target.Close()
		if _, _, e := syscall.RawSyscall(sysSetns, target.Fd(), cloneNewNet, 0); e != 0 {
			runtime.UnlockOSThread()
			ch <- res{err: fmt.Errorf("setns %s: %w", nsPath, e)}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if _, _, e := syscall.RawSyscall(sysSetns, orig.Fd(), cloneNewNet, 0); e != 0 {
			// Leave the thread locked: it exits with this goroutine
			// instead of running other goroutines in the wrong namespace.
			ch <- res{ln, lerr}
			return
		}
		runtime.UnlockOSThread()
		ch <- res{ln, lerr}
	}()
	r := <-ch
	return r.ln, r.err
}

// ForwardIntoNetns makes target (a TCP address reachable from the test
// process, e.g. an etcd on root-namespace loopback) reachable inside the
// namespace at nsPath, on that namespace's own loopback, without adding an
// address or route anywhere. It returns the address to use inside the
// namespace; the forwarder stops in t.Cleanup.
func ForwardIntoNetns(t testing.TB, nsPath, target string) string {
	t.Helper()
	addr, stop, err := StartForwardIntoNetns(nsPath, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

// StartForwardIntoNetns is ForwardIntoNetns for programs outside tests
// (benchmarks); stop closes the listener and every open connection.
func StartForwardIntoNetns(nsPath, target string) (addr string, stop func(), err error) {
	ln, err := ListenInNetns(nsPath, "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen in %s: %w", nsPath, err)
	}
	stop = relay.Serve(ln, relay.DialTCP(target))
	return ln.Addr().String(), stop, nil
}
