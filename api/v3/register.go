package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName and VersionCurrent are Calico's API group and version.
const (
	GroupName      = "projectcalico.org"
	VersionCurrent = "v3"
	// GroupVersionCurrent is the apiVersion string every resource carries.
	GroupVersionCurrent = GroupName + "/" + VersionCurrent
)

// SchemeGroupVersion is the group/version used to register these types.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: VersionCurrent}

// AddToScheme registers every kind and its list type with a runtime scheme.
func AddToScheme(scheme *runtime.Scheme) error {
	for _, k := range Kinds() {
		scheme.AddKnownTypes(SchemeGroupVersion, k.New(), k.NewList())
	}
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
