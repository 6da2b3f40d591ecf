// Package sysctl holds Felix's host-wide kernel settings: IP forwarding,
// which a node must have for pod traffic to cross it (Calico's Felix turns it
// on unless FelixConfiguration ipForwarding is Disabled).
//
// Settings are per network namespace: the manager writes them in the
// namespace of the thread that runs Apply (calico-node's own). Per-interface
// settings (proxy_arp on cali*) belong to the CNI plugin, which creates the
// interfaces.
package sysctl

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/calc"
)

// Paths of the settings the manager owns, relative to the proc root.
const (
	ipv4Forward = "sys/net/ipv4/ip_forward"
	ipv6Forward = "sys/net/ipv6/conf/all/forwarding"
)

// Manager converges the host-wide settings to the FelixConfiguration. It is
// level-triggered: every Apply re-reads each value and rewrites only what
// differs (someone turning forwarding off is repaired on the next apply).
// OnUpdate and Apply must be called from one goroutine (Felix's loop).
type Manager struct {
	proc string // proc root: "/proc", a temp dir in tests
	log  *slog.Logger
	want map[string]string
}

// New returns a manager writing under procRoot ("" = /proc).
func New(procRoot string, log *slog.Logger) *Manager {
	if procRoot == "" {
		procRoot = "/proc"
	}
	if log == nil {
		log = slog.Default()
	}
	return &Manager{proc: procRoot, log: log}
}

// OnUpdate records the settings a configuration update asks for; other
// updates are ignored.
func (m *Manager) OnUpdate(u calc.Update) {
	if cu, ok := u.(calc.ConfigUpdate); ok {
		m.want = Desired(cu.Config)
	}
}

// Desired maps a FelixConfiguration (nil = all defaults) to the values the
// manager writes: ip_forward=1 unless ipForwarding is Disabled, and IPv6
// forwarding too when IPv6 support is on (Calico's defaults: Enabled, on).
func Desired(spec *v3.FelixConfigurationSpec) map[string]string {
	if spec != nil && spec.IPForwarding == "Disabled" {
		return map[string]string{} // leave the kernel's values alone
	}
	want := map[string]string{ipv4Forward: "1"}
	if spec == nil || spec.IPv6Support == nil || *spec.IPv6Support {
		want[ipv6Forward] = "1"
	}
	return want
}

// Apply writes every desired value that differs from the kernel's. A setting
// the kernel does not have (IPv6 disabled on the host) is skipped with a
// debug log; any other failure is returned, naming the setting.
func (m *Manager) Apply(context.Context) error {
	for rel, val := range m.want {
		path := filepath.Join(m.proc, rel)
		cur, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			m.log.Debug("kernel setting not present; skipped", "setting", rel)
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if strings.TrimSpace(string(cur)) == val {
			continue
		}
		if err := os.WriteFile(path, []byte(val), 0o644); err != nil {
			return fmt.Errorf("set %s=%s (Felix turns on IP forwarding; set FelixConfiguration ipForwarding: Disabled to manage it yourself): %w", path, val, err)
		}
		m.log.Info("kernel setting changed", "setting", rel, "from", strings.TrimSpace(string(cur)), "to", val)
	}
	return nil
}
