// Package relay copies TCP connections from a listener to a dialed target,
// both ways, until either side closes. The lab and the tests use it to reach
// a server in one network namespace from another without adding any address
// or route: the listener lives in one namespace, the dialer in the other.
//
// Imports: standard library only.
//
//	client ──► ln.Accept ──► dial(ctx) ──► target
//	       ◄──────── copy both ways ◄──────
package relay

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// DialTimeout bounds how long one accepted connection waits for its target.
const DialTimeout = 5 * time.Second

// Serve accepts connections on ln until it is closed and relays each to a
// connection opened by dial. A connection whose dial fails is closed. The
// returned stop closes ln and every connection still open.
func Serve(ln net.Listener, dial func(ctx context.Context) (net.Conn, error)) (stop func()) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	track := func(add bool, cs ...net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			if add {
				open[c] = true
			} else {
				delete(open, c)
			}
		}
	}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
				out, err := dial(ctx)
				cancel()
				if err != nil {
					in.Close()
					return
				}
				track(true, in, out)
				Splice(in, out)
				track(false, in, out)
			}()
		}
	}()
	return func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for c := range open {
			c.Close()
		}
	}
}

// DialTCP returns a dial function for Serve that connects to addr over TCP
// from the calling goroutine's network namespace.
func DialTCP(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// Splice copies both ways until either side closes, then closes both.
func Splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(a, b)
	go pipe(b, a)
	<-done
	<-done
}
