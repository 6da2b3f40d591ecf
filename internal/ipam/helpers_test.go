package ipam

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// env is a memory datastore plus an IPAM over it.
type env struct {
	t  testing.TB
	be datastore.Backend
	m  *IPAM
}

func newEnv(t testing.TB) *env {
	t.Helper()
	be := memory.New()
	t.Cleanup(func() { be.Close() })
	return &env{t: t, be: be, m: New(be, Options{Logger: quietLogger()})}
}

func (e *env) put(kind, name string, v any) {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.be.Create(context.Background(), &datastore.KVPair{Key: key(kind, name), Value: b}); err != nil {
		e.t.Fatalf("create %s %s: %v", kind, name, err)
	}
}

// pool creates an IPPool; extra spec fields may be given.
func (e *env) pool(name, cidr string, blockSize int, extra map[string]any) {
	spec := map[string]any{"cidr": cidr}
	if blockSize != 0 {
		spec["blockSize"] = blockSize
	}
	for k, v := range extra {
		spec[k] = v
	}
	e.put(kindIPPool, name, map[string]any{"kind": "IPPool", "apiVersion": apiVersion,
		"metadata": map[string]any{"name": name}, "spec": spec})
}

func (e *env) node(name string, labels map[string]string) {
	e.put(kindNode, name, map[string]any{"kind": "Node", "apiVersion": apiVersion,
		"metadata": map[string]any{"name": name, "labels": labels}})
}

func (e *env) reservation(name string, cidrs ...string) {
	e.put(kindIPReservation, name, map[string]any{"kind": "IPReservation", "apiVersion": apiVersion,
		"metadata": map[string]any{"name": name}, "spec": map[string]any{"reservedCIDRs": cidrs}})
}

func (e *env) assign(node, handle string, n4, n6 int) (*Assignment, *Assignment, error) {
	return e.m.AutoAssign(context.Background(), AutoAssignArgs{Num4: n4, Num6: n6, HandleID: handle, Hostname: node})
}

func (e *env) mustAssign(node, handle string, n int) []netip.Addr {
	e.t.Helper()
	v4, _, err := e.assign(node, handle, n, 0)
	if err != nil {
		e.t.Fatalf("AutoAssign(%s, %s, %d): %v", node, handle, n, err)
	}
	return v4.Addrs()
}

func (e *env) count(kind string) int {
	e.t.Helper()
	l, err := e.be.List(context.Background(), datastore.ListOptions{Kind: kind})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(l.Items)
}

func (e *env) check() *Report {
	e.t.Helper()
	r, err := e.m.Check(context.Background(), CheckOptions{})
	if err != nil {
		e.t.Fatalf("Check: %v", err)
	}
	return r
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

type timeT = time.Time

const second = time.Second

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// quietLogger drops IPAM's info logs (set IPAM_TEST_LOG=1 to see them).
func quietLogger() *slog.Logger {
	if os.Getenv("IPAM_TEST_LOG") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func listOf(kind string) datastore.ListOptions { return datastore.ListOptions{Kind: kind} }
