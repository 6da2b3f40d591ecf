package calc

import (
	"bytes"
	"encoding/json"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// configUpdates returns a ConfigUpdate when the effective configuration
// changed: the "default" FelixConfiguration overlaid, field by field, with
// "node.<this node>" (Calico's precedence between the two resources;
// environment variables are applied by the consumer). Nothing is sent before
// in-sync, so the dataplane never starts on a half-read configuration.
func (g *Graph) configUpdates() []Update {
	if !g.configDirty || g.status != datastore.InSync {
		return nil
	}
	g.configDirty = false
	merged := map[string]json.RawMessage{}
	for _, name := range []string{"default", "node." + g.cfg.NodeName} {
		var m map[string]json.RawMessage
		if b := g.felixConfigs[name]; b != nil && json.Unmarshal(b, &m) == nil {
			for k, v := range m {
				merged[k] = v
			}
		}
	}
	b, _ := json.Marshal(merged)
	if g.configSent && bytes.Equal(b, g.sentConfig) {
		return nil
	}
	spec := &v3.FelixConfigurationSpec{}
	if err := json.Unmarshal(b, spec); err != nil {
		g.log.Warn("calc: merged Felix configuration does not decode; keeping the previous one", "err", err)
		return nil
	}
	g.sentConfig, g.configSent = b, true
	return []Update{ConfigUpdate{Config: spec}}
}
