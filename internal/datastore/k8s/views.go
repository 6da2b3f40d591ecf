package k8s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// View is a read-only datastore.Backend showing one native Kubernetes
// resource as a Calico kind, through the conversions of package conversion:
// Get, List and Watch work as in Backend (revisions are the native objects'
// resourceVersions); Create, Update and Delete are refused, because the
// Kubernetes object is the source of truth.
//
//	NewNamespaceProfiles       Namespace      → Profile kns.<ns>
//	NewServiceAccountProfiles  ServiceAccount → Profile ksa.<ns>.<sa>
//	NewPodWorkloadEndpoints    Pod            → WorkloadEndpoint <node>-k8s-<pod>-eth0
//	NewKubernetesNetworkPolicies NetworkPolicy → NetworkPolicy knp.default.<name>
//
// Objects without a Calico view (host-networked or unscheduled pods) are
// left out; objects that fail to convert are left out and logged, so one bad
// object never stops a list or a watch.
type View struct {
	client     dynamic.Interface
	gvr        schema.GroupVersionResource
	source     string // native kind, for messages
	kind       string // Calico kind served
	namespaced bool   // whether the native (and Calico) objects are namespaced
	// native maps a Calico key to the native object's namespace and name;
	// ok is false when the key cannot belong to this view.
	native func(key datastore.Key) (ns, name string, ok bool)
	// convert turns a typed native object into a Calico resource; nil
	// without error means "no view".
	convert func(u *unstructured.Unstructured) (v3.Resource, error)
	// fix tells the user what to change instead of the Calico resource.
	fix string
}

var _ datastore.Backend = (*View)(nil)

func newView(cfg *rest.Config, v *View) (*View, error) {
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes %s view: client for %s: %w", v.source, cfg.Host, err)
	}
	v.client = c
	return v, nil
}

// fromUnstructured decodes u into a typed object.
func fromUnstructured[T any](u *unstructured.Unstructured) (*T, error) {
	var obj T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &obj); err != nil {
		return nil, fmt.Errorf("decode %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return &obj, nil
}

// NewNamespaceProfiles shows every Namespace as the Profile kns.<name>.
func NewNamespaceProfiles(cfg *rest.Config) (*View, error) {
	return newView(cfg, &View{
		gvr: corev1.SchemeGroupVersion.WithResource("namespaces"), source: "Namespace", kind: v3.KindProfile,
		fix: "Profiles are derived from Namespaces (kns.*) and ServiceAccounts (ksa.*) in the kubernetes datastore; label the Namespace instead (kubectl label namespace)",
		native: func(key datastore.Key) (string, string, bool) {
			name, ok := strings.CutPrefix(key.Name, conversion.NamespaceProfilePrefix)
			return "", name, ok && key.Namespace == "" && name != ""
		},
		convert: func(u *unstructured.Unstructured) (v3.Resource, error) {
			ns, err := fromUnstructured[corev1.Namespace](u)
			if err != nil {
				return nil, err
			}
			return conversion.NamespaceToProfile(ns), nil
		},
	})
}

// NewServiceAccountProfiles shows every ServiceAccount as the Profile
// ksa.<namespace>.<name> (namespaces cannot contain dots, so the name
// splits back unambiguously).
func NewServiceAccountProfiles(cfg *rest.Config) (*View, error) {
	return newView(cfg, &View{
		gvr: corev1.SchemeGroupVersion.WithResource("serviceaccounts"), source: "ServiceAccount", kind: v3.KindProfile,
		fix:        "Profiles are derived from Namespaces (kns.*) and ServiceAccounts (ksa.*) in the kubernetes datastore; label the ServiceAccount instead (kubectl label serviceaccount)",
		namespaced: true,
		native: func(key datastore.Key) (string, string, bool) {
			rest, ok := strings.CutPrefix(key.Name, conversion.ServiceAccountProfilePrefix)
			ns, name, found := strings.Cut(rest, ".")
			return ns, name, ok && found && key.Namespace == "" && ns != "" && name != ""
		},
		convert: func(u *unstructured.Unstructured) (v3.Resource, error) {
			sa, err := fromUnstructured[corev1.ServiceAccount](u)
			if err != nil {
				return nil, err
			}
			return conversion.ServiceAccountToProfile(sa), nil
		},
	})
}

// NewPodWorkloadEndpoints shows every Calico pod (scheduled, not
// host-networked) as its WorkloadEndpoint.
func NewPodWorkloadEndpoints(cfg *rest.Config) (*View, error) {
	return newView(cfg, &View{
		gvr: corev1.SchemeGroupVersion.WithResource("pods"), source: "Pod", kind: v3.KindWorkloadEndpoint,
		fix:        "WorkloadEndpoints are derived from Pods in the kubernetes datastore; change the Pod instead (kubectl label/annotate pod)",
		namespaced: true,
		native: func(key datastore.Key) (string, string, bool) {
			parts := splitEscaped(key.Name)
			if len(parts) != 4 || parts[1] != conversion.OrchestratorK8s || key.Namespace == "" {
				return "", "", false
			}
			return key.Namespace, parts[2], true
		},
		convert: func(u *unstructured.Unstructured) (v3.Resource, error) {
			pod, err := fromUnstructured[corev1.Pod](u)
			if err != nil {
				return nil, err
			}
			if !conversion.IsCalicoPod(pod) {
				return nil, nil
			}
			return conversion.PodToWorkloadEndpoint(pod)
		},
	})
}

// NewKubernetesNetworkPolicies shows every Kubernetes NetworkPolicy as the
// Calico NetworkPolicy knp.default.<name>. A policy with rules that cannot
// be converted is shown without them (and logged), as Calico does.
func NewKubernetesNetworkPolicies(cfg *rest.Config) (*View, error) {
	return newView(cfg, &View{
		gvr: networkingv1.SchemeGroupVersion.WithResource("networkpolicies"), source: "NetworkPolicy (networking.k8s.io)",
		kind: v3.KindNetworkPolicy, namespaced: true,
		fix: "knp.default.* policies are derived from Kubernetes NetworkPolicies (networking.k8s.io); change the Kubernetes NetworkPolicy instead (kubectl edit networkpolicy), or write a Calico NetworkPolicy with another name",
		native: func(key datastore.Key) (string, string, bool) {
			name, ok := strings.CutPrefix(key.Name, conversion.NetworkPolicyPrefix)
			return key.Namespace, name, ok && key.Namespace != "" && name != ""
		},
		convert: func(u *unstructured.Unstructured) (v3.Resource, error) {
			np, err := fromUnstructured[networkingv1.NetworkPolicy](u)
			if err != nil {
				return nil, err
			}
			p, err := conversion.NetworkPolicyToCalico(np)
			if err != nil {
				slog.Warn("kubernetes NetworkPolicy converted without its unconvertible rules", "error", err)
			}
			return p, nil
		},
	})
}

// splitEscaped splits a workload endpoint name on single dashes, turning
// doubled dashes back into one: "my--node-k8s-web--0-eth0" →
// [my-node k8s web-0 eth0].
func splitEscaped(name string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '-' && i+1 < len(name) && name[i+1] == '-':
			cur.WriteByte('-')
			i++
		case name[i] == '-':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(name[i])
		}
	}
	return append(parts, cur.String())
}

// converter adapts convert to the list/watch machinery: the Calico
// resource's JSON without resourceVersion, at the native revision.
func (v *View) converter() convertFunc {
	return func(u *unstructured.Unstructured) (*datastore.KVPair, bool, error) {
		res, err := v.convert(u)
		if err != nil {
			slog.Warn("kubernetes object has no valid Calico view; left out", "source", v.source,
				"namespace", u.GetNamespace(), "name", u.GetName(), "error", err)
			return nil, false, nil
		}
		if res == nil {
			return nil, false, nil
		}
		rev := res.GetResourceVersion()
		res.SetResourceVersion("")
		value, err := json.Marshal(res)
		if err != nil {
			return nil, false, err
		}
		return &datastore.KVPair{
			Key:      datastore.Key{Kind: v.kind, Namespace: res.GetNamespace(), Name: res.GetName()},
			Value:    value,
			Revision: rev,
		}, true, nil
	}
}

func (v *View) info() kindInfo {
	return kindInfo{kind: v.kind, gvr: v.gvr, namespaced: v.namespaced, derived: true}
}

// Get returns the Calico view of one native object.
func (v *View) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, err
	}
	ns, name, ok := v.native(key)
	if key.Kind != v.kind || !ok {
		return nil, datastore.NotFoundError("get", key)
	}
	res := dynamic.ResourceInterface(v.client.Resource(v.gvr))
	if v.namespaced {
		res = v.client.Resource(v.gvr).Namespace(ns)
	}
	u, err := res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if isNotFoundErr(err) {
			return nil, datastore.NotFoundError("get", key)
		}
		return nil, apiError("get", key, err)
	}
	kv, ok, err := v.converter()(u)
	if err != nil {
		return nil, err
	}
	if !ok || kv.Key != key {
		return nil, datastore.NotFoundError("get", key)
	}
	return kv, nil
}

// listResource returns the native client for opts. Views whose Calico kind
// is cluster-scoped (profiles) list every native namespace.
func (v *View) listResource(opts datastore.ListOptions) (dynamic.ResourceInterface, error) {
	if err := datastore.ValidateListOptions(opts); err != nil {
		return nil, err
	}
	if opts.Kind != v.kind {
		return nil, fmt.Errorf("list %s: this view serves %s (from %s)", opts.Kind, v.kind, v.source)
	}
	if v.namespaced && opts.Namespace != "" && v.kind != v3.KindProfile {
		return v.client.Resource(v.gvr).Namespace(opts.Namespace), nil
	}
	return v.client.Resource(v.gvr), nil
}

// List returns the views of the selected native objects.
func (v *View) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	res, err := v.listResource(opts)
	if err != nil {
		return nil, err
	}
	out, err := listConverted(ctx, res, opts, v.converter())
	if err != nil {
		return nil, listError(v.info(), opts, err)
	}
	return out, nil
}

// Watch streams changes of the views after fromRevision (a native
// resourceVersion).
func (v *View) Watch(ctx context.Context, opts datastore.ListOptions, fromRevision string) (datastore.Watcher, error) {
	res, err := v.listResource(opts)
	if err != nil {
		return nil, err
	}
	return startWatch(ctx, res, v.info(), opts, fromRevision, v.converter())
}

// ErrReadOnly is wrapped by every refused write to a Calico resource that
// is derived from a Kubernetes object.
var ErrReadOnly = errors.New("derived from a Kubernetes object (read-only)")

// readOnly is the error every write gets.
func (v *View) readOnly(op string, key datastore.Key) error {
	return fmt.Errorf("%s %s: read-only: it is the Calico view of a Kubernetes %s. %s: %w", op, key, v.source, v.fix, ErrReadOnly)
}

// Create is refused: views are read-only.
func (v *View) Create(_ context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return nil, v.readOnly("create", kv.Key)
}

// Update is refused: views are read-only.
func (v *View) Update(_ context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	return nil, v.readOnly("update", kv.Key)
}

// Delete is refused: views are read-only.
func (v *View) Delete(_ context.Context, key datastore.Key, _ string) (*datastore.KVPair, error) {
	return nil, v.readOnly("delete", key)
}

// Close releases nothing.
func (v *View) Close() error { return nil }
