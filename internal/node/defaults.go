package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// ensureDefaultConfig writes what a cluster needs before its components
// start, creating each resource only when missing and never overwriting a
// user's value:
//
//   - ClusterInformation "default": clusterGUID (random, once), calicoVersion,
//     clusterType (CLUSTER_TYPE merged into the stored list),
//     datastoreReady true unless someone set it (false pauses components);
//   - FelixConfiguration "default": reportingInterval 0s, logSeverityScreen
//     Info (calico-node's defaults, which differ from Felix's);
//   - FelixConfiguration "node.<name>": defaultEndpointToHostAction Return;
//   - BGPConfiguration "default" (empty: Felix and BGP use built-in defaults).
func ensureDefaultConfig(ctx context.Context, c *client.Client, cfg *Config, log *slog.Logger) error {
	if err := ensureClusterInformation(ctx, c, cfg.ClusterType); err != nil {
		return err
	}
	zero := metav1.Duration{Duration: 0 * time.Second}
	if err := ensureFelixConfig(ctx, c, v3.FelixConfigurationDefault, func(s *v3.FelixConfigurationSpec) bool {
		changed := false
		if s.ReportingInterval == nil {
			s.ReportingInterval, changed = &zero, true
		}
		if s.LogSeverityScreen == "" {
			s.LogSeverityScreen, changed = "Info", true
		}
		return changed
	}); err != nil {
		return err
	}
	if cfg.Datastore == nil || cfg.Datastore.DatastoreType != client.DatastoreKubernetes {
		if err := ensureFelixConfig(ctx, c, "node."+cfg.NodeName, func(s *v3.FelixConfigurationSpec) bool {
			if s.DefaultEndpointToHostAction == "" {
				s.DefaultEndpointToHostAction = "Return"
				return true
			}
			return false
		}); err != nil {
			return err
		}
	}
	bgp := v3.NewBGPConfiguration()
	bgp.Name = "default"
	if _, err := c.Create(ctx, bgp); err != nil && !errors.Is(err, datastore.ErrAlreadyExists) {
		return fmt.Errorf("create the default BGPConfiguration: %w", err)
	}
	log.Debug("cluster defaults ensured")
	return nil
}

// ensureFelixConfig creates a FelixConfiguration or fills unset fields of
// the stored one (CAS; a concurrent writer wins and is left alone).
func ensureFelixConfig(ctx context.Context, c *client.Client, name string, fill func(*v3.FelixConfigurationSpec) bool) error {
	fc, err := client.Get[*v3.FelixConfiguration](ctx, c, "", name)
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		fc = v3.NewFelixConfiguration()
		fc.Name = name
		fill(&fc.Spec)
		if _, err := c.Create(ctx, fc); err != nil && !errors.Is(err, datastore.ErrAlreadyExists) {
			return fmt.Errorf("create FelixConfiguration %q: %w", name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read FelixConfiguration %q: %w", name, err)
	}
	if !fill(&fc.Spec) {
		return nil
	}
	if _, err := c.Update(ctx, fc); err != nil && !errors.Is(err, datastore.ErrConflict) {
		return fmt.Errorf("update FelixConfiguration %q: %w", name, err)
	}
	return nil
}

// ensureClusterInformation creates or completes ClusterInformation "default".
func ensureClusterInformation(ctx context.Context, c *client.Client, clusterType string) error {
	for attempt := 1; attempt <= maxNodeWriteAttempts; attempt++ {
		ci, err := client.Get[*v3.ClusterInformation](ctx, c, "", v3.ClusterInformationName)
		exists := err == nil
		switch {
		case errors.Is(err, datastore.ErrNotFound):
			ci = v3.NewClusterInformation()
			ci.Name = v3.ClusterInformationName
		case err != nil:
			return fmt.Errorf("read ClusterInformation: %w", err)
		}
		before := ci.Spec
		if ci.Spec.ClusterGUID == "" {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return fmt.Errorf("generate the cluster GUID: %w", err)
			}
			ci.Spec.ClusterGUID = hex.EncodeToString(b[:])
		}
		ci.Spec.CalicoVersion = Version
		ci.Spec.ClusterType = mergeClusterType(ci.Spec.ClusterType, clusterType)
		if ci.Spec.DatastoreReady == nil {
			ready := true
			ci.Spec.DatastoreReady = &ready
		}
		if exists && before.ClusterGUID == ci.Spec.ClusterGUID && before.CalicoVersion == ci.Spec.CalicoVersion &&
			before.ClusterType == ci.Spec.ClusterType && before.DatastoreReady != nil {
			return nil
		}
		if exists {
			_, err = c.Update(ctx, ci)
		} else {
			_, err = c.Create(ctx, ci)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, datastore.ErrConflict) && !errors.Is(err, datastore.ErrAlreadyExists) {
			return fmt.Errorf("write ClusterInformation: %w", err)
		}
	}
	return fmt.Errorf("write ClusterInformation: gave up after %d conflicting attempts", maxNodeWriteAttempts)
}

// mergeClusterType adds the comma-separated traits of add to stored,
// keeping stored's order and dropping duplicates.
func mergeClusterType(stored, add string) string {
	var out []string
	for _, t := range append(splitComma(stored), splitComma(add)...) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}
