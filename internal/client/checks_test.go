package client

import (
	"context"
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

func policy(ns, name, tier string) *v3.NetworkPolicy {
	p := v3.NewNetworkPolicy()
	p.Namespace, p.Name, p.Spec.Tier, p.Spec.Selector = ns, name, tier, "all()"
	return p
}

func TestPolicyWrites_EnforceTierRules(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)

	// A policy in the default tier creates that tier on demand and lands in
	// namespace "default" when none is given.
	created, err := c.Create(ctx, policy("", "allow-dns", ""))
	if err != nil {
		t.Fatalf("create in default tier: %v", err)
	}
	if created.GetNamespace() != DefaultNamespace {
		t.Errorf("namespace %q, want %q", created.GetNamespace(), DefaultNamespace)
	}
	if _, err := c.Get(ctx, "tier", "", DefaultTierName); err != nil {
		t.Fatalf("default tier was not created on demand: %v", err)
	}

	// A named tier must exist first.
	_, err = c.Create(ctx, policy("prod", "security.allow-web", "security"))
	if err == nil || !strings.Contains(err.Error(), `spec.tier: tier "security" does not exist`) {
		t.Fatalf("missing tier: got %v", err)
	}
	tier := v3.NewTier()
	tier.Name = "security"
	if _, err := c.Create(ctx, tier); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, policy("prod", "security.allow-web", "security")); err != nil {
		t.Fatalf("policy after its tier: %v", err)
	}

	// Tiers: default can never be deleted; a tier with policies cannot be.
	if _, err := c.Delete(ctx, "tier", "", DefaultTierName, ""); err == nil || !strings.Contains(err.Error(), "cannot be deleted") {
		t.Errorf("delete default tier: got %v", err)
	}
	if _, err := c.Delete(ctx, "tier", "", "security", ""); err == nil || !strings.Contains(err.Error(), `networkpolicy "prod/security.allow-web"`) {
		t.Errorf("delete non-empty tier: got %v", err)
	}
	if _, err := c.Delete(ctx, "networkpolicy", "prod", "security.allow-web", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "tier", "", "security", ""); err != nil {
		t.Errorf("delete emptied tier: %v", err)
	}

	// Kubernetes-owned names are refused.
	if _, err := c.Create(ctx, policy("", "knp.default.web", "")); err == nil || !strings.Contains(err.Error(), "Kubernetes") {
		t.Errorf("knp.default. name: got %v", err)
	}
}

func TestPlan_PolicyMayFollowItsTierInOneBatch(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t)
	tier := v3.NewTier()
	tier.Name = "security"
	errs := c.Plan(ctx, []Op{
		{ActionApply, policy("prod", "security.early", "security")}, // before its tier: refused
		{ActionApply, tier},
		{ActionApply, policy("prod", "security.late", "security")},
	})
	if errs[0] == nil || errs[1] != nil || errs[2] != nil {
		t.Errorf("plan errors %v", errs)
	}
}
