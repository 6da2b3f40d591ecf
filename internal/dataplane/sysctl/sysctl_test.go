package sysctl

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// fakeProc makes a proc root with the two forwarding files set to "0".
func fakeProc(t *testing.T, withIPv6 bool) string {
	t.Helper()
	root := t.TempDir()
	files := []string{ipv4Forward}
	if withIPv6 {
		files = append(files, ipv6Forward)
	}
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestManager_TurnsOnForwardingAndRepairsIt(t *testing.T) {
	root := fakeProc(t, true)
	m := New(root, nil)
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{}})
	if err := m.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ipv4Forward, ipv6Forward} {
		if got := read(t, root, f); got != "1" {
			t.Errorf("%s = %q after apply, want 1", f, got)
		}
	}
	// Someone turns it off: the next apply repairs it.
	if err := os.WriteFile(filepath.Join(root, ipv4Forward), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, ipv4Forward); got != "1" {
		t.Errorf("ip_forward = %q after repair, want 1", got)
	}
}

func TestManager_DisabledLeavesTheKernelAlone(t *testing.T) {
	root := fakeProc(t, true)
	m := New(root, nil)
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{IPForwarding: "Disabled"}})
	if err := m.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, ipv4Forward); got != "0\n" {
		t.Errorf("ip_forward = %q with ipForwarding Disabled, want it untouched", got)
	}
}

func TestManager_IPv6OffOrAbsent(t *testing.T) {
	off := false
	root := fakeProc(t, true)
	m := New(root, nil)
	m.OnUpdate(calc.ConfigUpdate{Config: &v3.FelixConfigurationSpec{IPv6Support: &off}})
	if err := m.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, root, ipv6Forward); got != "0\n" {
		t.Errorf("IPv6 forwarding = %q with ipv6Support false, want untouched", got)
	}
	// A host without IPv6: the setting is skipped, not an error.
	root = fakeProc(t, false)
	m = New(root, nil)
	m.OnUpdate(calc.ConfigUpdate{})
	if err := m.Apply(context.Background()); err != nil {
		t.Fatalf("apply without IPv6 in the kernel: %v", err)
	}
	if got := read(t, root, ipv4Forward); got != "1" {
		t.Errorf("ip_forward = %q, want 1", got)
	}
}
