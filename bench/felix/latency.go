package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/node/autodetect"
)

// Probe timing.
const (
	// dropAfter: a connection attempt unanswered this long was dropped
	// (an allowed SYN is answered in well under a millisecond here).
	dropAfter = 300 * time.Millisecond
	// probeTimeout bounds one flip measurement (generous: Felix's periodic
	// read-back of a big table can hold its loop for seconds).
	probeTimeout = 60 * time.Second
)

// prober connects from one pod to a TCP port of another, a new
// connection (new source port, so no conntrack entry helps) about every
// millisecond.
type prober struct {
	src  *pod
	dst  netip.Addr
	port int
}

// timeFlip starts change at t0 and returns how long after t0 the first
// connection attempt was sent that saw the new outcome (allowed: it
// connected; !allowed: it was dropped). Attempts are non-blocking sockets
// opened on a thread inside the source pod's namespace; the time of an
// outcome is the attempt's send time, so the dropAfter wait needed to
// call an attempt dropped does not count.
func (p prober) timeFlip(change func() error, allowed bool) (time.Duration, error) {
	var lat time.Duration
	err := autodetect.InNetns(p.src.ns.Name, func() error {
		type attempt struct {
			fd    int
			start time.Time
		}
		var pending []attempt
		defer func() {
			for _, a := range pending {
				unix.Close(a.fd)
			}
		}()
		changed := make(chan error, 1)
		t0 := time.Now()
		go func() { changed <- change() }()
		changeDone := false
		var firstOK time.Time // send time of the first attempt that connected
		sa := &unix.SockaddrInet4{Port: p.port, Addr: p.dst.As4()}
		for {
			if !changeDone {
				select {
				case err := <-changed:
					if err != nil {
						return err
					}
					changeDone = true
				default:
				}
			}
			now := time.Now()
			if now.Sub(t0) > probeTimeout {
				return fmt.Errorf("no %s outcome within %v of the change", outcome(allowed), probeTimeout)
			}
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			// Close with RST: no TIME_WAIT pile-up over thousands of probes.
			_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
			if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
				unix.Close(fd)
				return fmt.Errorf("connect %s:%d: %w", p.dst, p.port, err)
			}
			pending = append(pending, attempt{fd, now})

			pfds := make([]unix.PollFd, len(pending))
			for i, a := range pending {
				pfds[i] = unix.PollFd{Fd: int32(a.fd), Events: unix.POLLOUT}
			}
			if _, err := unix.Poll(pfds, 1); err != nil && !errors.Is(err, unix.EINTR) {
				return err
			}
			keep := pending[:0]
			for i, a := range pending {
				if pfds[i].Revents == 0 {
					keep = append(keep, a)
					continue
				}
				soErr, err := unix.GetsockoptInt(a.fd, unix.SOL_SOCKET, unix.SO_ERROR)
				unix.Close(a.fd)
				if err != nil || soErr != 0 {
					pending = append(keep, pending[i+1:]...)
					return fmt.Errorf("probe to %s:%d failed outright (%v %v): a dropped SYN should time out", p.dst, p.port, err, unix.Errno(soErr))
				}
				if allowed && firstOK.IsZero() {
					firstOK = a.start
				}
			}
			pending = keep
			if allowed && !firstOK.IsZero() && changeDone {
				lat = firstOK.Sub(t0)
				return nil
			}
			// Denied: the oldest attempt still unanswered after dropAfter
			// was dropped; every earlier one connected.
			if !allowed && changeDone && len(pending) > 0 && time.Since(pending[0].start) > dropAfter {
				lat = pending[0].start.Sub(t0)
				return nil
			}
		}
	})
	return lat, err
}

func outcome(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "dropped"
}

// serveProbe accepts and closes connections on probePort in the pod.
func serveProbe(p *pod) (stop func(), err error) {
	var l net.Listener
	if err := autodetect.InNetns(p.ns.Name, func() (err error) {
		l, err = net.Listen("tcp4", fmt.Sprintf(":%d", probePort))
		return err
	}); err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return func() { l.Close() }, nil
}

// latencies are the flip times through Felix and through nft directly,
// and Felix's own apply and calc times per Felix change (from its metrics).
type latencies struct {
	felix, floor []time.Duration
	apply, calc  []time.Duration
	// inFelixTable: wall time of `nft -f` committing a one-rule change to
	// a scratch chain in Felix's own table (no probe): what the kernel's
	// whole-table validation costs every rule change there.
	inFelixTable []time.Duration
	// ipv6 is the ipv6Support setting Felix ran with.
	ipv6 bool
}

// setIPv6Support writes ipv6Support to the FelixConfiguration "default"
// and waits until Felix's table shows it (an IPv6 selector set exists,
// or no longer does).
func setIPv6Support(ctx context.Context, b *benchNode, on bool) error {
	obj, err := b.c.Get(ctx, v3.KindFelixConfiguration, "", "default")
	if err != nil {
		return err
	}
	fc := obj.DeepCopyObject().(*v3.FelixConfiguration)
	fc.Spec.IPv6Support = &on
	if _, err := b.c.Update(ctx, fc); err != nil {
		return err
	}
	deadline := time.Now().Add(probeTimeout)
	for {
		var out []byte
		err := autodetect.InNetns(b.node.Name, func() (err error) {
			out, err = exec.Command("nft", "list", "sets", "inet").CombinedOutput()
			return err
		})
		if err != nil {
			return fmt.Errorf("nft list sets: %v: %s", err, out)
		}
		if strings.Contains(string(out), "set s6-") == on {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Felix did not apply ipv6Support %v within %v", on, probeTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// measureLatency flips the "flip" policy deny/allow through the datastore
// and, alternately, the same verdict by a rule in a table of our own
// written with the nft binary, changes times each.
func measureLatency(ctx context.Context, b *benchNode, changes int) (*latencies, error) {
	stop, err := serveProbe(b.pods[loadedB])
	if err != nil {
		return nil, err
	}
	defer stop()
	pr := prober{src: b.pods[loadedA], dst: netip.MustParseAddr(b.pods[loadedB].ip), port: probePort}
	nop := func() error { return nil }
	if _, err := pr.timeFlip(nop, true); err != nil {
		return nil, fmt.Errorf("before any change: %w", err)
	}

	cur, err := b.c.Get(ctx, v3.KindGlobalNetworkPolicy, "", "flip")
	if err != nil {
		return nil, err
	}
	viaFelix := func(a v3.Action) func() error {
		return func() error {
			p := cur.DeepCopyObject().(*v3.GlobalNetworkPolicy)
			p.Spec.Ingress[0].Action = a
			res, err := b.c.Update(ctx, p)
			if err == nil {
				cur = res
			}
			return err
		}
	}
	nftIn := func(script string) func() error {
		return func() error {
			return autodetect.InNetns(b.node.Name, func() error {
				cmd := exec.Command("nft", "-f", "-")
				cmd.Stdin = strings.NewReader(script)
				if out, err := cmd.CombinedOutput(); err != nil {
					return fmt.Errorf("nft: %v: %s", err, out)
				}
				return nil
			})
		}
	}
	if err := nftIn("table inet tcbench-floor {\n chain floor { type filter hook forward priority -10; policy accept; }\n}\n")(); err != nil {
		return nil, err
	}
	floorDeny := nftIn(fmt.Sprintf("add rule inet tcbench-floor floor ip saddr %s ip daddr %s tcp dport %d drop\n", b.pods[loadedA].ip, b.pods[loadedB].ip, probePort))
	floorAllow := nftIn("flush chain inet tcbench-floor floor\n")

	l := &latencies{}
	scratch := func(verdict string) func() error {
		return nftIn(fmt.Sprintf("add chain inet calico tcbench-scratch\nflush chain inet calico tcbench-scratch\n"+
			"add rule inet calico tcbench-scratch ip saddr %s tcp dport %d %s\n", b.pods[loadedA].ip, probePort, verdict))
	}
	defer func() { _ = nftIn("delete chain inet calico tcbench-scratch\n")() }()
	// Felix's apply and calc time for one flip: its histograms before the
	// flip and once an apply has followed it.
	account := func(before felixTimes) error {
		deadline := time.Now().Add(probeTimeout)
		for {
			after, err := scrapeFelix(b.node.Name)
			if err != nil {
				return err
			}
			if after.apply.count > before.apply.count {
				// Only flips that caused exactly one apply and one calc
				// batch (not, say, also a background read-back's repair)
				// say what one policy change costs.
				apply, calc := after.apply.minus(before.apply), after.calc.minus(before.calc)
				if apply.count == 1 && calc.count == 1 {
					l.apply = append(l.apply, seconds(apply.sum))
					l.calc = append(l.calc, seconds(calc.sum))
				}
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no Felix apply within %v of a policy change", probeTimeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	steps := []struct {
		change  func() error
		allowed bool
		into    *[]time.Duration
	}{
		{viaFelix(v3.Deny), false, &l.felix}, {viaFelix(v3.Allow), true, &l.felix},
		{floorDeny, false, &l.floor}, {floorAllow, true, &l.floor},
	}
	for i := 0; i < changes; i += 2 {
		for _, s := range steps {
			throughFelix := s.into == &l.felix
			var before felixTimes
			if throughFelix {
				if before, err = scrapeFelix(b.node.Name); err != nil {
					return nil, err
				}
			}
			d, err := pr.timeFlip(s.change, s.allowed)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i, err)
			}
			*s.into = append(*s.into, d)
			if throughFelix {
				if err := account(before); err != nil {
					return nil, err
				}
			}
		}
		for _, verdict := range []string{"drop", "accept"} {
			start := time.Now()
			if err := scratch(verdict)(); err != nil {
				return nil, err
			}
			l.inFelixTable = append(l.inFelixTable, time.Since(start))
		}
	}
	return l, nil
}
