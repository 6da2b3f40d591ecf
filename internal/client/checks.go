package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Kind names the cross-resource checks care about. Kinds that are not (yet)
// registered in api/v3 simply never match.
const (
	kindTier                      = "Tier"
	kindNetworkPolicy             = "NetworkPolicy"
	kindGlobalNetworkPolicy       = "GlobalNetworkPolicy"
	kindStagedNetworkPolicy       = "StagedNetworkPolicy"
	kindStagedGlobalNetworkPolicy = "StagedGlobalNetworkPolicy"
)

// DefaultTierName is the tier policies without spec.tier belong to; it is
// created on demand and can never be deleted (as in Calico).
const DefaultTierName = "default"

// defaultTierOrder is Calico's order for the default tier (evaluated last
// among ordered tiers).
const defaultTierOrder = 1000000

// k8sPolicyPrefix marks Kubernetes NetworkPolicies converted into Calico
// policies; users cannot create, change or delete those through Calico.
const k8sPolicyPrefix = "knp.default."

// tieredKinds are the policy kinds that carry spec.tier.
var tieredKinds = map[string]bool{
	kindNetworkPolicy: true, kindGlobalNetworkPolicy: true,
	kindStagedNetworkPolicy: true, kindStagedGlobalNetworkPolicy: true,
}

// checkWrite runs Calico's cross-resource rules for creating (old == nil) or
// replacing old with res, against the state seen through v.
func (c *Client) checkWrite(ctx context.Context, v view, old, res v3.Resource) error {
	kind := res.GetObjectKind().GroupVersionKind().Kind
	switch {
	case kind == v3.KindIPPool:
		return checkIPPool(ctx, v, old, res)
	case tieredKinds[kind]:
		return checkTieredPolicy(ctx, v, res)
	}
	return nil
}

// checkDelete runs Calico's rules for deleting res.
func (c *Client) checkDelete(ctx context.Context, v view, res v3.Resource) error {
	kind := res.GetObjectKind().GroupVersionKind().Kind
	switch {
	case kind == v3.KindIPPool:
		return c.checkPoolDelete(ctx, res)
	case kind == kindTier:
		if res.GetName() == DefaultTierName {
			return fmt.Errorf("tier %q cannot be deleted: it holds every policy without spec.tier; delete or move the policies instead", DefaultTierName)
		}
		var holders []string
		for k := range tieredKinds {
			if _, err := v3.LookupKind(k); err != nil {
				continue
			}
			pols, err := v.list(ctx, k)
			if err != nil {
				return err
			}
			for _, p := range pols {
				if tierOf(p) == res.GetName() {
					holders = append(holders, ref(p))
				}
			}
		}
		if len(holders) > 0 {
			return fmt.Errorf("tier %q still holds %d policies (%s); delete them or move them to another tier first",
				res.GetName(), len(holders), strings.Join(holders, ", "))
		}
	case kind == kindNetworkPolicy || kind == kindGlobalNetworkPolicy:
		if strings.HasPrefix(res.GetName(), k8sPolicyPrefix) {
			return fmt.Errorf("%s: names starting with %q belong to Kubernetes NetworkPolicies; delete the Kubernetes NetworkPolicy with kubectl instead", ref(res), k8sPolicyPrefix)
		}
	}
	return nil
}

// checkIPPool enforces: CIDR and blockSize are fixed at creation, and no two
// enabled pools overlap.
func checkIPPool(ctx context.Context, v view, old, res v3.Resource) error {
	p := res.(*v3.IPPool)
	if old != nil {
		o := old.(*v3.IPPool)
		if !sameCIDR(o.Spec.CIDR, p.Spec.CIDR) {
			return fmt.Errorf("%s: spec.cidr cannot be changed (%s → %s); create a new pool with the new CIDR, then disable and delete this one",
				ref(res), o.Spec.CIDR, p.Spec.CIDR)
		}
		if o.Spec.BlockSize != p.Spec.BlockSize {
			return fmt.Errorf("%s: spec.blockSize cannot be changed (%d → %d); create a new pool with the new block size, then disable and delete this one",
				ref(res), o.Spec.BlockSize, p.Spec.BlockSize)
		}
	}
	if p.Spec.Disabled {
		return nil
	}
	_, mine, err := net.ParseCIDR(p.Spec.CIDR)
	if err != nil {
		return nil // Validate reports it.
	}
	pools, err := v.list(ctx, v3.KindIPPool)
	if err != nil {
		return err
	}
	for _, r := range pools {
		other := r.(*v3.IPPool)
		if other.Name == p.Name || other.Spec.Disabled {
			continue
		}
		_, theirs, err := net.ParseCIDR(other.Spec.CIDR)
		if err != nil {
			continue
		}
		if mine.Contains(theirs.IP) || theirs.Contains(mine.IP) {
			return fmt.Errorf("%s: spec.cidr %s overlaps %s (%s); choose a CIDR outside it or disable one of the pools",
				ref(res), p.Spec.CIDR, ref(other), other.Spec.CIDR)
		}
	}
	return nil
}

// checkTieredPolicy enforces: a policy's tier exists (the default tier is
// created on demand when the policy is written), and Kubernetes-owned names
// are not written through Calico.
func checkTieredPolicy(ctx context.Context, v view, res v3.Resource) error {
	kind := res.GetObjectKind().GroupVersionKind().Kind
	if (kind == kindNetworkPolicy || kind == kindGlobalNetworkPolicy) && strings.HasPrefix(res.GetName(), k8sPolicyPrefix) {
		return fmt.Errorf("%s: metadata.name: names starting with %q belong to Kubernetes NetworkPolicies; manage those with kubectl, or pick another name", ref(res), k8sPolicyPrefix)
	}
	tier := tierOf(res)
	if tier == DefaultTierName {
		return nil
	}
	if _, err := v3.LookupKind(kindTier); err != nil {
		return fmt.Errorf("%s: spec.tier: tier %q is not supported by this version; remove spec.tier to use the default tier", ref(res), tier)
	}
	t, err := v.get(ctx, datastore.Key{Kind: kindTier, Name: tier})
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("%s: spec.tier: tier %q does not exist; create it first (kind: Tier) or use the default tier", ref(res), tier)
	}
	return nil
}

// ensureDefaultTier creates the default tier before the first policy in it is
// written, as Calico does.
func (c *Client) ensureDefaultTier(ctx context.Context, res v3.Resource) error {
	if !tieredKinds[res.GetObjectKind().GroupVersionKind().Kind] || tierOf(res) != DefaultTierName {
		return nil
	}
	info, err := v3.LookupKind(kindTier)
	if err != nil {
		return nil // no Tier kind yet: nothing to create
	}
	key := datastore.Key{Kind: info.Kind, Name: DefaultTierName}
	if t, err := (storeView{c}).get(ctx, key); err != nil || t != nil {
		return err
	}
	tier := info.New()
	raw := fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":{"name":%q},"spec":{"order":%d}}`,
		v3.GroupVersionCurrent, info.Kind, DefaultTierName, defaultTierOrder)
	if err := json.Unmarshal([]byte(raw), tier); err != nil {
		return fmt.Errorf("build the default tier: %w", err)
	}
	if _, err := c.Create(ctx, tier); err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("create the default tier for %s: %w", ref(res), err)
	}
	return nil
}

// tierOf returns a policy's spec.tier, or the default tier when unset. It
// reads the JSON form so it does not depend on the Go field layout.
func tierOf(res v3.Resource) string {
	m := fieldsOf(res)
	if spec, ok := m["spec"].(map[string]any); ok {
		if t, ok := spec["tier"].(string); ok && t != "" {
			return t
		}
	}
	return DefaultTierName
}

// fieldsOf returns the resource's JSON form as a generic map.
func fieldsOf(res v3.Resource) map[string]any {
	b, err := json.Marshal(res)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// sameCIDR compares two CIDRs by value (so "10.0.0.0/16" equals itself
// written differently, e.g. with IPv6 zero compression).
func sameCIDR(a, b string) bool {
	_, na, errA := net.ParseCIDR(a)
	_, nb, errB := net.ParseCIDR(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return na.String() == nb.String()
}
