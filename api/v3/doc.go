// Package v3 holds the projectcalico.org/v3 resource types, JSON- and
// YAML-identical to Calico's, with their defaulting (Default methods) and
// validation (Validate methods).
//
// Every kind implements Resource and is listed once in the kinds table
// (kinds.go), which is what the client, calicoctl and the datastore backends
// use to find a kind's plural, aliases and scope.
//
// Imports: k8s.io/apimachinery (ObjectMeta, TypeMeta), api/numorstring,
// internal/selector.
// Nothing here touches a datastore.
//
// +kubebuilder:object:generate=true
// +groupName=projectcalico.org
package v3
