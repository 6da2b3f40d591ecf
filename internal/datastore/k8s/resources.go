package k8s

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Group and Version are the API group and version of Tricolor's (and
// Calico's v3) custom resources.
const (
	Group   = "projectcalico.org"
	Version = "v3"
)

// APIVersion is the apiVersion every stored object carries.
const APIVersion = Group + "/" + Version

// statusKinds are the kinds whose CRD has a status subresource
// (manifests/crds; TestStatusKinds_MatchTheCRDs keeps the two in step). The
// API server ignores .status on their main endpoint, so writes of a status
// go through /status as a second, CAS-chained request.
var statusKinds = map[string]bool{
	"CalicoNodeStatus":             true,
	"KubeControllersConfiguration": true,
}

// kindInfo is what the backend needs to know about one kind.
type kindInfo struct {
	kind       string
	gvr        schema.GroupVersionResource
	namespaced bool
	status     bool // the CRD has a status subresource
	// derived marks a view of native objects: their watches drop
	// modifications that leave the Calico resource unchanged (pod status
	// and node heartbeat updates), which are most native updates.
	derived bool
}

// lookup maps a datastore kind onto its custom resource.
func lookup(kind string) (kindInfo, error) {
	info, err := v3.LookupKind(kind)
	if err != nil || info.Kind != kind {
		return kindInfo{}, fmt.Errorf("kind %q has no custom resource in group %s; use one of the projectcalico.org/v3 kinds (e.g. IPPool)", kind, Group)
	}
	return kindInfo{
		kind:       info.Kind,
		gvr:        schema.GroupVersionResource{Group: Group, Version: Version, Resource: info.Plural},
		namespaced: info.Namespaced,
		status:     statusKinds[info.Kind],
	}, nil
}

// crdName is the CustomResourceDefinition that serves a kind, for errors.
func (k kindInfo) crdName() string { return k.gvr.Resource + "." + Group }

// resourceFor returns the client for one key's object after checking the key
// is storable and that its namespace fits the kind's scope.
func (b *Backend) resourceFor(key datastore.Key) (dynamic.ResourceInterface, kindInfo, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, kindInfo{}, err
	}
	k, err := lookup(key.Kind)
	if err != nil {
		return nil, k, fmt.Errorf("key %s: %w", key, err)
	}
	if !k.namespaced {
		if key.Namespace != "" {
			return nil, k, fmt.Errorf("key %s: %s is cluster-scoped; drop the namespace %q", key, key.Kind, key.Namespace)
		}
		return b.client.Resource(k.gvr), k, nil
	}
	return b.client.Resource(k.gvr).Namespace(key.Namespace), k, nil
}

// listResource returns the client that lists or watches opts: one namespace
// of a namespaced kind, or all of them.
func (b *Backend) listResource(opts datastore.ListOptions) (dynamic.ResourceInterface, kindInfo, error) {
	if err := datastore.ValidateListOptions(opts); err != nil {
		return nil, kindInfo{}, err
	}
	k, err := lookup(opts.Kind)
	if err != nil {
		return nil, k, fmt.Errorf("list: %w", err)
	}
	if k.namespaced && opts.Namespace != "" {
		return b.client.Resource(k.gvr).Namespace(opts.Namespace), k, nil
	}
	return b.client.Resource(k.gvr), k, nil
}
