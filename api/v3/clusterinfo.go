package v3

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindClusterInformation is the ClusterInformation kind.
const KindClusterInformation = "ClusterInformation"

// ClusterInformationName is the only name Calico uses for the singleton.
const ClusterInformationName = "default"

// ClusterInformation is the singleton ("default") that calico-node writes at
// startup: the cluster's GUID, type and Calico version, and whether the
// datastore is ready for use.
//
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,path=clusterinformations,singular=clusterinformation
type ClusterInformation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ClusterInformationSpec `json:"spec,omitempty"`
}

// ClusterInformationSpec holds the cluster-wide facts.
type ClusterInformationSpec struct {
	// ClusterGUID is a random identifier chosen once per cluster.
	ClusterGUID string `json:"clusterGUID,omitempty"`
	// ClusterType is a comma-separated list of cluster traits, e.g. "k8s,bgp,kubeadm".
	ClusterType string `json:"clusterType,omitempty"`
	// CalicoVersion is the version of the components that last wrote this.
	CalicoVersion string `json:"calicoVersion,omitempty"`
	// DatastoreReady false tells every component to pause (used during upgrades).
	DatastoreReady *bool `json:"datastoreReady,omitempty"`
	// Variant names the product variant, "Calico" for open source.
	Variant string `json:"variant,omitempty"`
}

// ClusterInformationList is a list of ClusterInformations.
//
// +kubebuilder:object:root=true
type ClusterInformationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterInformation `json:"items"`
}

// NewClusterInformation returns an empty ClusterInformation with its TypeMeta set.
func NewClusterInformation() *ClusterInformation {
	return &ClusterInformation{TypeMeta: typeMeta(KindClusterInformation)}
}

// NewClusterInformationList returns an empty ClusterInformationList with its TypeMeta set.
func NewClusterInformationList() *ClusterInformationList {
	return &ClusterInformationList{TypeMeta: typeMeta(KindClusterInformation + "List")}
}

// Default does nothing: calico-node fills ClusterInformation at startup
// (GUID, type, version, datastoreReady true); users are not expected to.
func (c *ClusterInformation) Default() {}

// Validate checks the singleton name and the cluster type list.
func (c *ClusterInformation) Validate() error {
	v := newValidator(KindClusterInformation, &c.ObjectMeta)
	v.name(&c.ObjectMeta, false)
	if c.Name != "" && c.Name != ClusterInformationName {
		v.addf("metadata.name", "%q is not allowed; cluster information is a singleton named %q", c.Name, ClusterInformationName)
	}
	return v.result()
}
