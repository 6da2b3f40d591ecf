// Package examples holds the example topology and resources the README,
// `calico-lab demo` and the lab's scenario tests use. They are embedded so
// the demo binary and the tests read the same single copy as a user reading
// examples/*.yaml.
package examples

import _ "embed"

// LabTopology is lab.yaml: three nodes, two on rack-a and one behind the
// fabric's router on rack-b, and six pods in the shop and ops namespaces.
//
//go:embed lab.yaml
var LabTopology []byte

// LabPolicy is lab-policy.yaml: a security tier that denies the ops
// namespace into the shop namespace, and a NetworkPolicy that lets only
// web pods reach the database. LabPolicyAllows says what it lets through.
//
//go:embed lab-policy.yaml
var LabPolicy []byte

// BadPool is bad-pool.yaml: two IP pools calicoctl must refuse (one
// overlaps the lab's pool, one has block size 33) without writing either.
//
//go:embed bad-pool.yaml
var BadPool []byte

// LabPolicyAllows reports whether LabPolicy lets a pod (namespace, labels)
// reach another: nothing from ops reaches shop, and only shop's app=web
// pods reach shop's app=db (a NetworkPolicy's source selector matches pods
// of its own namespace); everything else is allowed by the namespaces'
// profiles.
func LabPolicyAllows(fromNamespace string, fromLabels map[string]string, toNamespace string, toLabels map[string]string) bool {
	switch {
	case fromNamespace == "ops" && toNamespace == "shop":
		return false
	case toNamespace == "shop" && toLabels["app"] == "db" && (fromNamespace != "shop" || fromLabels["app"] != "web"):
		return false
	}
	return true
}
