package bgp

import (
	"context"

	api "github.com/osrg/gobgp/v4/api"
)

// reconcilePolicies will map BGPFilters and next-hop modes onto GoBGP
// policies; not implemented yet (see docs/bgp.md, "What is missing").
func (s *Speaker) reconcilePolicies(_ context.Context, _ *Desired) error { return nil }

// peerPolicies returns the per-peer policy assignment; nil until
// reconcilePolicies exists.
func peerPolicies(_ Peer) *api.ApplyPolicy { return nil }
