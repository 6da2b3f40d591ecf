package conversion

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// NamespaceProfileName is the Profile name of a Namespace: "kns.<name>".
func NamespaceProfileName(namespace string) string { return NamespaceProfilePrefix + namespace }

// ServiceAccountProfileName is the Profile name of a ServiceAccount:
// "ksa.<namespace>.<name>" (namespace "default" when empty).
func ServiceAccountProfileName(namespace, name string) string {
	if namespace == "" {
		namespace = "default"
	}
	return ServiceAccountProfilePrefix + namespace + "." + name
}

// NamespaceToProfile is the Profile Calico shows for a Namespace: its labels
// re-exported as "pcns.<key>" (plus pcns.projectcalico.org/name = the
// namespace name) to every pod in it, and allow-all ingress and egress rules
// so a namespace without policy stays open.
func NamespaceToProfile(ns *corev1.Namespace) *v3.Profile {
	labels := make(map[string]string, len(ns.Labels)+1)
	for k, v := range ns.Labels {
		labels[NamespaceLabelPrefix+k] = v
	}
	labels[NamespaceLabelPrefix+LabelName] = ns.Name
	p := v3.NewProfile()
	p.ObjectMeta = metav1.ObjectMeta{
		Name:              NamespaceProfileName(ns.Name),
		UID:               ns.UID,
		CreationTimestamp: ns.CreationTimestamp,
		ResourceVersion:   ns.ResourceVersion,
	}
	p.Spec = v3.ProfileSpec{
		Ingress:       []v3.Rule{{Action: v3.Allow}},
		Egress:        []v3.Rule{{Action: v3.Allow}},
		LabelsToApply: labels,
	}
	return p
}

// ServiceAccountToProfile is the Profile Calico shows for a ServiceAccount:
// its labels re-exported as "pcsa.<key>" (plus pcsa.projectcalico.org/name)
// to the pods running as it; no rules.
func ServiceAccountToProfile(sa *corev1.ServiceAccount) *v3.Profile {
	labels := make(map[string]string, len(sa.Labels)+1)
	for k, v := range sa.Labels {
		labels[ServiceAccountLabelPrefix+k] = v
	}
	labels[ServiceAccountLabelPrefix+LabelName] = sa.Name
	p := v3.NewProfile()
	p.ObjectMeta = metav1.ObjectMeta{
		Name:              ServiceAccountProfileName(sa.Namespace, sa.Name),
		UID:               sa.UID,
		CreationTimestamp: sa.CreationTimestamp,
		ResourceVersion:   sa.ResourceVersion,
	}
	p.Spec = v3.ProfileSpec{LabelsToApply: labels}
	return p
}
