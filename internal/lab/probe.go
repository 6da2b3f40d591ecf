package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Probe protocols.
const (
	ProtoICMP = "icmp"
	ProtoTCP  = "tcp"
	ProtoUDP  = "udp"
)

// probeTimeout bounds one probe.
const probeTimeout = time.Second

// Exec runs a command inside a pod's namespace and returns its combined
// output.
func (l *Lab) Exec(ctx context.Context, podRef string, argv ...string) ([]byte, error) {
	p, err := l.Pod(podRef)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec in pod %s: no command given", p.Key())
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", p.Netns}, argv...)...).CombinedOutput()
}

// Command returns an unstarted command running inside a pod's namespace
// (for interactive use: the caller wires stdin/stdout).
func (l *Lab) Command(ctx context.Context, podRef string, argv ...string) (*exec.Cmd, error) {
	p, err := l.Pod(podRef)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec in pod %s: no command given", p.Key())
	}
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", p.Netns}, argv...)...), nil
}

// Ping sends one ICMP echo from pod from to pod to's IPv4 address, waiting
// up to timeout (one second when zero). The error carries ping's output.
func (l *Lab) Ping(ctx context.Context, from, to string, timeout time.Duration) error {
	return l.ping(ctx, from, to, false, timeout)
}

// Ping6 is Ping to pod to's IPv6 address (ICMPv6) in a dual-stack lab.
func (l *Lab) Ping6(ctx context.Context, from, to string, timeout time.Duration) error {
	return l.ping(ctx, from, to, true, timeout)
}

func (l *Lab) ping(ctx context.Context, from, to string, ipv6 bool, timeout time.Duration) error {
	src, err := l.Pod(from)
	if err != nil {
		return err
	}
	dst, err := l.Pod(to)
	if err != nil {
		return err
	}
	ip, err := dst.Addr(ipv6)
	if err != nil {
		return err
	}
	return pingFrom(ctx, src, ip, timeout)
}

// Addr is the pod's IPv4 address, or its IPv6 address when ipv6 is set;
// a pod without one (IPv6 outside a dual-stack lab) is an error.
func (p Pod) Addr(ipv6 bool) (string, error) {
	ip := p.IP
	if ipv6 {
		ip = p.IP6
	}
	if ip == "" {
		return "", fmt.Errorf("pod %s has no IPv%s address; IPv6 needs a dual-stack lab (topology ipv6: true, `calico-lab up --ipv6`)", p.Key(), map[bool]string{false: "4", true: "6"}[ipv6])
	}
	return ip, nil
}

func pingFrom(ctx context.Context, src Pod, ip string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = probeTimeout
	}
	secs := int((timeout + time.Second - 1) / time.Second)
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", src.Netns, "ping", "-c", "1", "-W", fmt.Sprint(secs), ip).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ping %s from pod %s: %v\n%s", ip, src.Key(), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// MatrixOptions choose the probe.
type MatrixOptions struct {
	// Proto is icmp (default), tcp or udp.
	Proto string
	// Port is the TCP or UDP port; the lab listens on it in every pod
	// while the matrix runs (default 8080).
	Port int
	// Timeout per probe (default 1s).
	Timeout time.Duration
	// IPv6 probes the pods' IPv6 addresses (ICMPv6, TCP or UDP over
	// IPv6) instead of their IPv4 ones; the lab must be dual stack.
	IPv6 bool
}

// Matrix is the reachability of every ordered pair of pods.
type Matrix struct {
	// Pods are the rows and columns, "namespace/name".
	Pods []string
	// OK[i][j] reports whether Pods[i] reached Pods[j] (false on the
	// diagonal, which is not probed).
	OK [][]bool
	// Proto is what was probed.
	Proto string
	// IPv6 reports that the pods' IPv6 addresses were probed.
	IPv6 bool
}

// Matrix probes every ordered pair of distinct pods concurrently.
func (l *Lab) Matrix(ctx context.Context, o MatrixOptions) (*Matrix, error) {
	if o.Proto == "" {
		o.Proto = ProtoICMP
	}
	if o.Port == 0 {
		o.Port = 8080
	}
	if o.Timeout == 0 {
		o.Timeout = probeTimeout
	}
	pods := l.Pods()
	m := &Matrix{Proto: o.Proto, IPv6: o.IPv6}
	addrs := make([]string, len(pods))
	for i, p := range pods {
		m.OK = append(m.OK, make([]bool, len(pods)))
		m.Pods = append(m.Pods, p.Key())
		var err error
		if addrs[i], err = p.Addr(o.IPv6); err != nil {
			return nil, err
		}
	}
	switch o.Proto {
	case ProtoICMP:
	case ProtoTCP:
		// A listener in every pod that accepts and closes.
		for i, p := range pods {
			ln, err := listenIn(p.Netns, net.JoinHostPort(addrs[i], fmt.Sprint(o.Port)))
			if err != nil {
				return nil, err
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					_, _ = io.WriteString(c, "ok\n")
					c.Close()
				}
			}()
		}
	case ProtoUDP:
		// An echo socket in every pod.
		for i, p := range pods {
			pc, err := listenPacketIn(p.Netns, net.JoinHostPort(addrs[i], fmt.Sprint(o.Port)))
			if err != nil {
				return nil, err
			}
			defer pc.Close()
			go func() {
				buf := make([]byte, 64)
				for {
					n, from, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					_, _ = pc.WriteTo(buf[:n], from)
				}
			}()
		}
	default:
		return nil, fmt.Errorf("probe protocol %q: use icmp, tcp or udp", o.Proto)
	}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, src := range pods {
		for j := range pods {
			if i == j {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				var err error
				addr := net.JoinHostPort(addrs[j], fmt.Sprint(o.Port))
				switch o.Proto {
				case ProtoTCP:
					err = tcpProbe(ctx, src, addr, o.Timeout)
				case ProtoUDP:
					err = udpProbe(ctx, src, addr, o.Timeout)
				default:
					err = pingFrom(ctx, src, addrs[j], o.Timeout)
				}
				m.OK[i][j] = err == nil
			}()
		}
	}
	wg.Wait()
	return m, nil
}

// tcpProbe connects from inside src to addr and reads the listener's
// greeting.
func tcpProbe(ctx context.Context, src Pod, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := dialIn(ctx, src.Netns, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	b := make([]byte, 3)
	_, err = io.ReadFull(c, b)
	return err
}

// udpProbe sends a datagram from inside src to addr and waits for the
// echo.
func udpProbe(ctx context.Context, src Pod, addr string, timeout time.Duration) error {
	c, err := dialNetIn(ctx, src.Netns, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("probe")); err != nil {
		return err
	}
	b := make([]byte, 5)
	_, err = c.Read(b)
	return err
}

// String renders the matrix as a table: rows are sources, columns
// destinations, "ok" reached, "--" not, "." the diagonal.
func (m *Matrix) String() string {
	w := len("FROM \\ TO")
	for _, p := range m.Pods {
		w = max(w, len(p))
	}
	var b strings.Builder
	row := func(first string, cells []string) {
		line := fmt.Sprintf("%-*s", w+2, first)
		for j, c := range cells {
			line += fmt.Sprintf("%-*s", len(m.Pods[j])+2, c)
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	row("FROM \\ TO", m.Pods)
	for i, p := range m.Pods {
		cells := make([]string, len(m.Pods))
		for j := range m.Pods {
			switch {
			case i == j:
				cells[j] = "."
			case m.OK[i][j]:
				cells[j] = "ok"
			default:
				cells[j] = "--"
			}
		}
		row(p, cells)
	}
	return b.String()
}

// Failures lists the pairs that did not connect, "a -> b".
func (m *Matrix) Failures() []string {
	var out []string
	for i := range m.Pods {
		for j := range m.Pods {
			if i != j && !m.OK[i][j] {
				out = append(out, m.Pods[i]+" -> "+m.Pods[j])
			}
		}
	}
	return out
}
