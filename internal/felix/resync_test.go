package felix

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// TestFelix_PeriodicResyncRepairsDrift sets a short refresh interval
// through the env override and deletes an endpoint's verdict-map element
// behind Felix's back: the loop's periodic read-back restores it within a
// few intervals without any datastore change.
func TestFelix_PeriodicResyncRepairsDrift(t *testing.T) {
	h := newHarness(t)
	h.apply(nsProfile("prod"))
	h.apply(wep(thisNode, "prod", "web", "caliweb", "10.244.1.2", nil))
	env := func(s *v3.FelixConfigurationSpec) error {
		s.IptablesRefreshInterval = &metav1.Duration{Duration: 200 * time.Millisecond}
		return nil
	}
	f := New(h.config(func(c *Config) { c.ApplyEnv = env }))
	h.start(f)
	waitReady(t, f)
	const elem = `add element inet calico to-wl { "caliweb" : goto tw-caliweb }`
	if !strings.Contains(h.fake.Dump(), elem) {
		t.Fatalf("endpoint not in the to-wl map:\n%s", h.fake.Dump())
	}
	tx := h.fake.NewTransaction()
	tx.Delete(&knftables.Element{Map: "to-wl", Key: []string{`"caliweb"`}})
	if err := h.fake.Run(context.Background(), tx); err != nil {
		t.Fatalf("delete the element by hand: %v", err)
	}
	if strings.Contains(h.fake.Dump(), elem) {
		t.Fatal("hand delete did not take")
	}
	start := time.Now()
	h.waitDump(3*time.Second, "the repaired to-wl element", contains(elem))
	t.Logf("drift repaired in %v (refresh interval 200ms)", time.Since(start).Round(time.Millisecond))
}
