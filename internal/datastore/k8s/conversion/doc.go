// Package conversion turns native Kubernetes objects into the Calico
// resources Calico shows for them in Kubernetes-datastore mode (read-only
// views): Namespace → Profile "kns.<name>", ServiceAccount → Profile
// "ksa.<namespace>.<name>", Pod → WorkloadEndpoint, NetworkPolicy →
// NetworkPolicy "knp.default.<name>". Functions are pure: no client, no
// clock, deterministic output (sorted selector terms, sorted protocols).
//
//	core/v1 Namespace      ──► Profile kns.<ns>          labels as pcns.<key>, allow-all rules
//	core/v1 ServiceAccount ──► Profile ksa.<ns>.<sa>     labels as pcsa.<key>
//	core/v1 Pod            ──► WorkloadEndpoint <node>-k8s-<pod>-eth0 (IPs, profiles, named ports)
//	networking/v1 NetworkPolicy ──► NetworkPolicy knp.default.<name> (order 1000, Allow rules)
//
// Imports: api/v3, api/numorstring, k8s.io/api (core, networking),
// k8s.io/apimachinery and the standard library.
package conversion
