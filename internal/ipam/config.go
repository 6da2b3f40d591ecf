package ipam

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Config is the cluster-wide IPAM behaviour (the IPAMConfiguration
// resource named "default"). The zero value is not Calico's default; use
// DefaultConfig.
type Config struct {
	// StrictAffinity forbids borrowing from other nodes' blocks.
	StrictAffinity bool
	// MaxBlocksPerHost caps blocks claimed per node; 0 = no cap.
	MaxBlocksPerHost int
	// AutoAllocateBlocks lets nodes claim new blocks (default true).
	AutoAllocateBlocks bool
	// IPCooldown keeps a released address out of use for this long.
	IPCooldown time.Duration
}

// DefaultConfig is what IPAM uses when no IPAMConfiguration exists.
func DefaultConfig() Config { return Config{AutoAllocateBlocks: true} }

// GetIPAMConfig reads the IPAMConfiguration, or returns DefaultConfig when
// none is stored.
func (m *IPAM) GetIPAMConfig(ctx context.Context) (Config, error) {
	c, _, err := m.readConfig(ctx)
	return c, err
}

func (m *IPAM) readConfig(ctx context.Context) (Config, *datastore.KVPair, error) {
	kv, err := m.st.Get(ctx, key(kindIPAMConfig, ipamConfigName))
	if errors.Is(err, datastore.ErrNotFound) {
		return DefaultConfig(), nil, nil
	}
	if err != nil {
		return Config{}, nil, fmt.Errorf("read ipamconfiguration %q: %w", ipamConfigName, err)
	}
	var o ipamConfiguration
	if err := decode(kv, &o); err != nil {
		return Config{}, nil, err
	}
	c := Config{StrictAffinity: o.Spec.StrictAffinity, MaxBlocksPerHost: int(o.Spec.MaxBlocksPerHost), AutoAllocateBlocks: true}
	if o.Spec.AutoAllocateBlocks != nil {
		c.AutoAllocateBlocks = *o.Spec.AutoAllocateBlocks
	}
	if o.Spec.IPCooldownSeconds != nil && *o.Spec.IPCooldownSeconds > 0 {
		c.IPCooldown = time.Duration(*o.Spec.IPCooldownSeconds) * time.Second
	}
	return c, kv, nil
}

// SetIPAMConfig writes the IPAMConfiguration (CAS against what it read;
// retried on conflict). Fields other than IPAM's are preserved.
func (m *IPAM) SetIPAMConfig(ctx context.Context, c Config) error {
	if c.MaxBlocksPerHost < 0 {
		return fmt.Errorf("ipamconfiguration %q: spec.maxBlocksPerHost: %d is negative; use 0 for no limit", ipamConfigName, c.MaxBlocksPerHost)
	}
	if c.IPCooldown < 0 {
		return fmt.Errorf("ipamconfiguration %q: spec.ipCooldownSeconds: %s is negative; use 0 to reuse addresses at once", ipamConfigName, c.IPCooldown)
	}
	return m.retry(ctx, "update ipamconfiguration default", func() error {
		_, kv, err := m.readConfig(ctx)
		if err != nil {
			return err
		}
		// Decode into a generic map so fields this package does not know
		// (added to the API later) survive the rewrite.
		raw := map[string]any{}
		if kv != nil {
			if err := decode(kv, &raw); err != nil {
				return err
			}
		}
		spec, _ := raw["spec"].(map[string]any)
		if spec == nil {
			spec = map[string]any{}
		}
		spec["strictAffinity"] = c.StrictAffinity
		setOrDelete(spec, "maxBlocksPerHost", c.MaxBlocksPerHost, c.MaxBlocksPerHost != 0)
		setOrDelete(spec, "autoAllocateBlocks", c.AutoAllocateBlocks, !c.AutoAllocateBlocks)
		secs := int(c.IPCooldown / time.Second)
		setOrDelete(spec, "ipCooldownSeconds", secs, secs != 0)
		raw["spec"] = spec
		raw["kind"] = kindIPAMConfig
		raw["apiVersion"] = apiVersion
		meta, _ := raw["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{"name": ipamConfigName, "creationTimestamp": metav1.NewTime(m.now())}
		}
		delete(meta, "resourceVersion")
		raw["metadata"] = meta
		out := &datastore.KVPair{Key: key(kindIPAMConfig, ipamConfigName), Value: encode(raw)}
		if kv == nil {
			_, err = m.st.Create(ctx, out)
			return err
		}
		out.Revision = kv.Revision
		_, err = m.st.Update(ctx, out)
		return err
	})
}

func setOrDelete(m map[string]any, k string, v any, set bool) {
	if set {
		m[k] = v
	} else {
		delete(m, k)
	}
}
