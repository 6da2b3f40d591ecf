package wlroute

import (
	"testing"

	"github.com/tricolor-net/tricolor/internal/calc"
)

// TestOnUpdate_OnlyAddressOrInterfaceChangesDirty checks that endpoint
// updates that leave the routes alone (policy, labels) cost no kernel
// reconcile: at 1,000 endpoints a policy change re-sends many of them.
func TestOnUpdate_OnlyAddressOrInterfaceChangesDirty(t *testing.T) {
	base := wep("a", "calia", "10.244.0.5/32")
	withTiers := wep("a", "calia", "10.244.0.5/32")
	withTiers.Endpoint.Tiers = []calc.TierInfo{{Name: "default"}}
	withTiers.Endpoint.Labels = map[string]string{"app": "web"}
	for _, tc := range []struct {
		name  string
		next  calc.WorkloadEndpointUpdate
		dirty bool
	}{
		{"same addresses, new policy and labels", withTiers, false},
		{"new address", wep("a", "calia", "10.244.0.6/32"), true},
		{"extra IPv6 address", wep("a", "calia", "10.244.0.5/32", "fd00::5/128"), true},
		{"other interface", wep("a", "calib", "10.244.0.5/32"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Config{})
			m.OnUpdate(base)
			_ = m.in.ApplyIfDirty(func() error { return nil }) // as after a successful Apply
			m.OnUpdate(tc.next)
			if m.in.Dirty() != tc.dirty {
				t.Errorf("dirty = %v, want %v", m.in.Dirty(), tc.dirty)
			}
		})
	}
}
