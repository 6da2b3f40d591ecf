package v3

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Resource is what every projectcalico.org/v3 kind implements.
// +kubebuilder:object:generate=false
type Resource interface {
	runtime.Object
	metav1.Object
	// Default fills in Calico's defaults for unset fields. Idempotent.
	Default()
	// Validate checks the resource on its own (cross-resource checks such as
	// overlapping pools live in internal/client). The error is a
	// *ValidationError naming the resource, the field and the fix.
	Validate() error
}

// ResourceList is what every XList type implements.
// +kubebuilder:object:generate=false
type ResourceList interface {
	runtime.Object
	metav1.ListInterface
}

// KindInfo describes one kind: how it is named, scoped and constructed.
// +kubebuilder:object:generate=false
type KindInfo struct {
	// Kind is the CamelCase kind, e.g. "IPPool".
	Kind string
	// Plural is the lower-case plural, e.g. "ippools" (CRD resource name and
	// calicoctl's canonical plural).
	Plural string
	// Aliases are the extra names calicoctl accepts (singular, plural and
	// short forms), all lower case; Kind and Plural lower-cased are implied.
	Aliases []string
	// Namespaced is true for namespaced kinds (NetworkPolicy, WEP, ...).
	Namespaced bool
	// New returns an empty resource with TypeMeta set.
	New func() Resource
	// NewList returns an empty list with TypeMeta set.
	NewList func() ResourceList
}

// Kinds returns every kind, in a stable order.
func Kinds() []KindInfo {
	var all []KindInfo
	all = append(all, networkKinds()...)
	all = append(all, policyKinds()...)
	return all
}

// LookupKind resolves a kind name, plural or calicoctl alias
// (case-insensitive) to its KindInfo.
func LookupKind(name string) (KindInfo, error) {
	n := strings.ToLower(name)
	for _, k := range Kinds() {
		if n == strings.ToLower(k.Kind) || n == k.Plural {
			return k, nil
		}
		for _, a := range k.Aliases {
			if n == a {
				return k, nil
			}
		}
	}
	return KindInfo{}, fmt.Errorf("resource type %q is not supported", name)
}

// NewResource returns an empty resource of the given kind (exact kind name).
func NewResource(kind string) (Resource, error) {
	for _, k := range Kinds() {
		if k.Kind == kind {
			return k.New(), nil
		}
	}
	return nil, fmt.Errorf("resource type %q is not supported", kind)
}

// typeMeta returns the TypeMeta for a kind of this group/version.
func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{Kind: kind, APIVersion: GroupVersionCurrent}
}
