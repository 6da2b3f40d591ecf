package v3

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestIPAM_NewerCalicoFields_RoundTrip checks the fields newer Calico has
// (autoAllocateBlocks, ipCooldownSeconds, releasedAt) survive a decode and
// re-encode, and that documents without them encode without them.
func TestIPAM_NewerCalicoFields_RoundTrip(t *testing.T) {
	cases := []struct {
		name, in string
		into     any
		want     []string
		absent   []string
	}{
		{"config with both", `{"kind":"IPAMConfiguration","apiVersion":"projectcalico.org/v3","metadata":{"name":"default"},"spec":{"strictAffinity":false,"autoAllocateBlocks":false,"ipCooldownSeconds":30}}`,
			&IPAMConfiguration{}, []string{`"autoAllocateBlocks":false`, `"ipCooldownSeconds":30`}, nil},
		{"config without", `{"kind":"IPAMConfiguration","apiVersion":"projectcalico.org/v3","metadata":{"name":"default"},"spec":{"strictAffinity":true}}`,
			&IPAMConfiguration{}, []string{`"strictAffinity":true`}, []string{"autoAllocateBlocks", "ipCooldownSeconds"}},
		{"released attribute", `{"handle_id":"h","secondary":{"pod":"p"},"releasedAt":"2026-11-21T10:00:00Z"}`,
			&AllocationAttribute{}, []string{`"releasedAt":"2026-11-21T10:00:00Z"`}, nil},
		{"live attribute", `{"handle_id":"h"}`, &AllocationAttribute{}, []string{`"handle_id":"h"`}, []string{"releasedAt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := json.Unmarshal([]byte(c.in), c.into); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(c.into)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("re-encoded %s lacks %s", out, w)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(string(out), a) {
					t.Errorf("re-encoded %s has %s, which the input did not", out, a)
				}
			}
		})
	}
}

func TestIPAMConfiguration_Validate_Cooldown(t *testing.T) {
	for _, c := range []struct {
		secs    int32
		wantErr bool
	}{{0, false}, {30, false}, {-1, true}} {
		cfg := NewIPAMConfiguration()
		cfg.Name = IPAMConfigurationName
		cfg.Spec.IPCooldownSeconds = &c.secs
		err := cfg.Validate()
		if (err != nil) != c.wantErr {
			t.Errorf("ipCooldownSeconds=%d: err=%v, want error %v", c.secs, err, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "spec.ipCooldownSeconds") {
			t.Errorf("error %q does not name the field", err)
		}
	}
}
