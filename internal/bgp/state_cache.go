package bgp

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// SyncedKinds are the kinds the BGP agent watches (the syncer's ListOptions).
func SyncedKinds() []datastore.ListOptions {
	kinds := []string{v3.KindNode, v3.KindBGPConfiguration, v3.KindBGPPeer, v3.KindBGPFilter,
		v3.KindIPPool, v3.KindIPAMBlock, v3.KindBlockAffinity}
	out := make([]datastore.ListOptions, len(kinds))
	for i, k := range kinds {
		out[i] = datastore.ListOptions{Kind: k}
	}
	return out
}

// StateCache is the agent's view of the datastore, fed by a
// datastore.Syncer (it implements datastore.SyncerCallbacks). It only
// records; Changed signals (coalesced) that a new State is available, and
// Snapshot builds it. A value that does not decode is logged and the
// previous value of that key kept, so one corrupt record never empties the
// agent's view.
type StateCache struct {
	log     *slog.Logger
	mu      sync.Mutex
	inSync  bool
	objects map[datastore.Key]any
	changed chan struct{}
}

var _ datastore.SyncerCallbacks = (*StateCache)(nil)

// NewStateCache returns an empty cache.
func NewStateCache(log *slog.Logger) *StateCache {
	if log == nil {
		log = slog.Default()
	}
	return &StateCache{log: log.With("component", "bgp-state"), objects: map[datastore.Key]any{}, changed: make(chan struct{}, 1)}
}

// OnStatusUpdated records whether the snapshot is complete.
func (c *StateCache) OnStatusUpdated(s datastore.SyncStatus) {
	c.mu.Lock()
	c.inSync = s == datastore.InSync
	c.mu.Unlock()
	c.notify()
}

// OnUpdates decodes and stores a batch.
func (c *StateCache) OnUpdates(us []datastore.Update) {
	c.mu.Lock()
	for _, u := range us {
		if u.UpdateType == datastore.UpdateTypeDeleted {
			delete(c.objects, u.Key)
			continue
		}
		obj, err := decodeKind(u.Key.Kind, u.Value)
		if err != nil {
			c.log.Warn("ignoring undecodable resource; keeping its previous value", "key", u.Key.String(), "err", err)
			continue
		}
		if obj == nil {
			continue // a kind the agent does not use
		}
		c.objects[u.Key] = obj
	}
	c.mu.Unlock()
	c.notify()
}

func (c *StateCache) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Changed fires (at most one pending signal) after any update.
func (c *StateCache) Changed() <-chan struct{} { return c.changed }

// Snapshot returns the current State, sorted by name, and whether the
// datastore has been fully read (until then the State may be partial and
// must not be used to remove anything).
func (c *StateCache) Snapshot() (*State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]datastore.Key, 0, len(c.objects))
	for k := range c.objects {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b datastore.Key) int { return strings.Compare(a.Name, b.Name) })
	st := &State{}
	for _, k := range keys {
		switch o := c.objects[k].(type) {
		case *v3.Node:
			st.Nodes = append(st.Nodes, *o)
		case *v3.BGPConfiguration:
			st.BGPConfigurations = append(st.BGPConfigurations, *o)
		case *v3.BGPPeer:
			st.BGPPeers = append(st.BGPPeers, *o)
		case *v3.BGPFilter:
			st.BGPFilters = append(st.BGPFilters, *o)
		case *v3.IPPool:
			st.IPPools = append(st.IPPools, *o)
		case *v3.IPAMBlock:
			st.IPAMBlocks = append(st.IPAMBlocks, *o)
		case *v3.BlockAffinity:
			st.BlockAffinities = append(st.BlockAffinities, *o)
		}
	}
	return st, c.inSync
}

func decodeKind(kind string, b []byte) (any, error) {
	var obj any
	switch kind {
	case v3.KindNode:
		obj = &v3.Node{}
	case v3.KindBGPConfiguration:
		obj = &v3.BGPConfiguration{}
	case v3.KindBGPPeer:
		obj = &v3.BGPPeer{}
	case v3.KindBGPFilter:
		obj = &v3.BGPFilter{}
	case v3.KindIPPool:
		obj = &v3.IPPool{}
	case v3.KindIPAMBlock:
		obj = &v3.IPAMBlock{}
	case v3.KindBlockAffinity:
		obj = &v3.BlockAffinity{}
	default:
		return nil, nil
	}
	if err := json.Unmarshal(b, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// RunFromCache applies the cache's State every time it changes, once the
// datastore is in sync (nothing is applied from a partial snapshot), until
// ctx ends. Compute errors are logged and the previous configuration kept.
func (a *Agent) RunFromCache(ctx context.Context, c *StateCache) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.Changed():
		}
		st, inSync := c.Snapshot()
		if !inSync {
			continue
		}
		if _, err := a.Apply(ctx, st); err != nil {
			a.log.Warn("BGP state not applied; keeping the current sessions", "err", err)
		}
	}
}
