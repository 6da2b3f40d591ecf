// Package health aggregates the liveness and readiness reports of the
// components calico-node hosts (Felix's parts, BGP, startup) and serves
// them as Felix does: GET /liveness and /readiness on FELIX_HEALTHHOST:
// FELIX_HEALTHPORT (localhost:9099), 200 when healthy, 503 otherwise, with
// a JSON body naming each component. Probe is the client side used by
// `calico-node -felix-live/-felix-ready/-bird-live/-bird-ready`.
//
// Imports: the standard library only.
//
//	component ──Report(live, ready)──► Reporter ──► Aggregator
//	                                                   │ Status(group)
//	kubelet exec probe: calico-node -felix-ready       ▼
//	        └──► Probe ──GET /readiness?group=felix──► Handler ──► 200 / 503
package health
