package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Netns is a named network namespace created for one test (iproute2's
// /run/netns/<name>) and deleted when the test ends. Everything a
// privileged test configures goes inside such namespaces; nothing touches
// the root namespace.
type Netns struct {
	// Name is the namespace name, unique per test run.
	Name string
}

// NewNetns creates a fresh namespace named "tc-<tag>-<random>" with its
// loopback up, and deletes it (and so its links, addresses and routes) in
// t.Cleanup. The tag is cut to keep names short.
func NewNetns(t testing.TB, tag string) *Netns {
	t.Helper()
	RequireRoot(t)
	n, err := CreateNetns(tag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Delete() })
	return n
}

// CreateNetns is NewNetns for programs (benchmarks) that have no
// testing.TB: the caller deletes the namespace with Delete.
func CreateNetns(tag string) (*Netns, error) {
	if len(tag) > 8 {
		tag = tag[:8]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	n := &Netns{Name: "tc-" + tag + "-" + hex.EncodeToString(b)}
	if _, err := Run("ip", "netns", "add", n.Name); err != nil {
		return nil, err
	}
	if _, err := Run("ip", "-n", n.Name, "link", "set", "lo", "up"); err != nil {
		_ = n.Delete()
		return nil, err
	}
	return n, nil
}

// Delete removes the namespace and with it every link, address and route
// inside it.
func (n *Netns) Delete() error {
	_, err := Run("ip", "netns", "del", n.Name)
	return err
}

// IP runs `ip -n <ns> args...` and returns its output; it fails the test on
// error.
func (n *Netns) IP(t testing.TB, args ...string) string {
	t.Helper()
	return MustRun(t, "ip", append([]string{"-n", n.Name}, args...)...)
}

// Exec runs a command inside the namespace (`ip netns exec`) and returns
// its combined output; it fails the test on error.
func (n *Netns) Exec(t testing.TB, cmd string, args ...string) string {
	t.Helper()
	return MustRun(t, "ip", append([]string{"netns", "exec", n.Name, cmd}, args...)...)
}

// Command returns an unstarted command that runs inside the namespace.
func (n *Netns) Command(cmd string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, cmd}, args...)...)
}

// Veth connects two namespaces with a veth pair (aName in a, bName in b),
// both ends up. The pair is created directly across the namespaces, so no
// link ever appears in the root namespace.
func Veth(t testing.TB, a *Netns, aName string, b *Netns, bName string) {
	t.Helper()
	a.IP(t, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Name)
	a.IP(t, "link", "set", aName, "up")
	b.IP(t, "link", "set", bName, "up")
}

// Fabric is an L2 segment: a bridge in its own namespace that node
// namespaces attach to with veths, like hosts on one switch.
type Fabric struct {
	// NS holds the bridge.
	NS    *Netns
	ports int
}

// NewFabric creates the switch namespace with bridge br0.
func NewFabric(t testing.TB) *Fabric {
	t.Helper()
	f := &Fabric{NS: NewNetns(t, "fabric")}
	f.NS.IP(t, "link", "add", "br0", "type", "bridge")
	f.NS.IP(t, "link", "set", "br0", "up")
	return f
}

// Attach plugs ns into the fabric as interface ifName with address cidr
// (e.g. "198.18.0.2/24"), and returns ns for chaining.
func (f *Fabric) Attach(t testing.TB, ns *Netns, ifName, cidr string) *Netns {
	t.Helper()
	f.ports++
	port := fmt.Sprintf("p%d", f.ports)
	Veth(t, ns, ifName, f.NS, port)
	f.NS.IP(t, "link", "set", port, "master", "br0")
	ns.IP(t, "addr", "add", cidr, "dev", ifName)
	return ns
}

// MustRun runs a command and returns its combined output, failing the test
// with the output on error.
func MustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := Run(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Run runs a command and returns its combined output; the error names the
// command and carries the output.
func Run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
