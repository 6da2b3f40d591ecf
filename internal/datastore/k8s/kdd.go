package k8s

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// KDD is the Kubernetes datastore as Calico's DATASTORE_TYPE=kubernetes
// presents it: one datastore.Backend in which
//
//	Profile           = kns.<ns> from Namespaces + ksa.<ns>.<sa> from ServiceAccounts (read-only)
//	WorkloadEndpoint  = the Pods' views (read-only)
//	Node              = the Kubernetes Nodes (updates write annotations and labels)
//	NetworkPolicy     = knp.default.<name> from Kubernetes NetworkPolicies (read-only)
//	                    + Calico NetworkPolicies (the CRD)
//	everything else   = the projectcalico.org/v3 CRDs (IPAM blocks, affinities,
//	                    handles, pools, configuration, ...)
//
// Kinds served by several sources have composite list and watch revisions
// (see composite); the revision of each item is its own object's
// resourceVersion, so compare-and-swap writes work unchanged.
type KDD struct {
	crds  *Backend
	kinds map[string]datastore.Backend
}

var _ datastore.Backend = (*KDD)(nil)

// NewKDD connects the combined backend to the API server cfg points at.
func NewKDD(cfg *rest.Config) (*KDD, error) {
	crds, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ns, err := NewNamespaceProfiles(cfg)
	if err != nil {
		return nil, err
	}
	sa, err := NewServiceAccountProfiles(cfg)
	if err != nil {
		return nil, err
	}
	pods, err := NewPodWorkloadEndpoints(cfg)
	if err != nil {
		return nil, err
	}
	knp, err := NewKubernetesNetworkPolicies(cfg)
	if err != nil {
		return nil, err
	}
	nodes, err := NewNodes(cfg)
	if err != nil {
		return nil, err
	}
	return &KDD{crds: crds, kinds: map[string]datastore.Backend{
		v3.KindProfile: &composite{
			kind: v3.KindProfile,
			sources: []compositeSource{
				{ns, prefixOwner(conversion.NamespaceProfilePrefix)},
				{sa, prefixOwner(conversion.ServiceAccountProfilePrefix)},
			},
			unowned: "Profiles are derived from Namespaces (kns.<namespace>) and ServiceAccounts (ksa.<namespace>.<name>) in the kubernetes datastore; " +
				"label the Namespace or ServiceAccount instead, or use a NetworkPolicy/GlobalNetworkPolicy for rules",
		},
		v3.KindWorkloadEndpoint: pods,
		v3.KindNode:             nodes,
		v3.KindNetworkPolicy: &composite{
			kind: v3.KindNetworkPolicy,
			sources: []compositeSource{
				{knp, prefixOwner(conversion.NetworkPolicyPrefix)},
				{crds, func(datastore.Key) bool { return true }},
			},
		},
	}}, nil
}

func prefixOwner(prefix string) func(datastore.Key) bool {
	return func(k datastore.Key) bool { return strings.HasPrefix(k.Name, prefix) }
}

// backend is the store serving kind.
func (k *KDD) backend(kind string) datastore.Backend {
	if b, ok := k.kinds[kind]; ok {
		return b
	}
	return k.crds
}

// Get reads one resource from the store of its kind.
func (k *KDD) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	return k.backend(key.Kind).Get(ctx, key)
}

// List lists one kind.
func (k *KDD) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	return k.backend(opts.Kind).List(ctx, opts)
}

// Create stores a new resource; refused for read-only kinds and names.
func (k *KDD) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return k.backend(kv.Key.Kind).Create(ctx, kv)
}

// Update replaces a resource with compare-and-swap; refused for read-only
// kinds and names.
func (k *KDD) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return k.backend(kv.Key.Kind).Update(ctx, kv)
}

// Delete removes a resource; refused for read-only kinds and names.
func (k *KDD) Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error) {
	return k.backend(key.Kind).Delete(ctx, key, revision)
}

// Watch streams changes to one kind.
func (k *KDD) Watch(ctx context.Context, opts datastore.ListOptions, fromRevision string) (datastore.Watcher, error) {
	return k.backend(opts.Kind).Watch(ctx, opts, fromRevision)
}

// Ping checks that the API server answers and serves Tricolor's CRDs (by
// listing ClusterInformation, which holds at most one object).
func (k *KDD) Ping(ctx context.Context) error {
	_, err := k.crds.List(ctx, datastore.ListOptions{Kind: v3.KindClusterInformation})
	return err
}

// Close releases nothing (the clients hold only pooled connections).
func (k *KDD) Close() error { return nil }

// unownedError is the refusal of a write to a name no source of a composite
// kind stores.
func unownedError(op string, key datastore.Key, why string) error {
	return fmt.Errorf("%s %s: read-only: %s: %w", op, key, why, ErrReadOnly)
}
