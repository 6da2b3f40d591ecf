package controllers

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// owners answers IPAM Check's "does this still exist?" questions. The
// informer caches answer "yes" cheaply; every "no" is confirmed by a live
// read from the API server, so a stale cache can delay a release but never
// cause one.
type owners struct {
	kube    kubernetes.Interface
	backend datastore.Backend
	kdd     bool
	pods    corelisters.PodLister
	nodes   corelisters.NodeLister
}

// tunnelHandlePrefixes are the handle forms of node tunnel addresses
// (ipam.TunnelHandle): their owner is the node.
var tunnelHandlePrefixes = []string{"ipip-tunnel-addr-", "vxlan-tunnel-addr-", "vxlan-v6-tunnel-addr-", "wireguard-tunnel-addr-", "wireguard-v6-tunnel-addr-"}

// allocationExists reports whether the owner of an allocation still
// exists: its pod (and the pod still holds that address once it has any),
// or its node for a tunnel address. Allocations of unknown owners (plain
// CNI workloads, manual assignments) are always kept.
func (o *owners) allocationExists(ctx context.Context, a ipam.Allocation) (bool, error) {
	ns, pod, node := a.Attrs[ipam.AttrNamespace], a.Attrs[ipam.AttrPod], a.Attrs[ipam.AttrNode]
	if ns != "" && pod != "" {
		p, err := o.pod(ctx, ns, pod)
		if err != nil || p == nil {
			return false, err
		}
		return podHolds(p, node, a.Addr), nil
	}
	for _, pre := range tunnelHandlePrefixes {
		if strings.HasPrefix(a.Handle, pre) {
			if node == "" {
				node = strings.TrimPrefix(a.Handle, pre)
			}
			return o.nodeExists(ctx, node)
		}
	}
	return true, nil
}

// podHolds reports whether pod p may own addr allocated on node: a pod
// that moved to another node, or that has addresses and not this one, is
// a later pod of the same name (a StatefulSet's), not the owner.
func podHolds(p *corev1.Pod, node string, addr netip.Addr) bool {
	if p.Spec.NodeName != "" && node != "" && p.Spec.NodeName != node {
		return false
	}
	wep, err := conversion.PodToWorkloadEndpoint(p)
	if err != nil || len(wep.Spec.IPNetworks) == 0 {
		return true // no addresses known yet (CNI ADD in flight): keep
	}
	for _, n := range wep.Spec.IPNetworks {
		if pfx, err := netip.ParsePrefix(n); err == nil && pfx.Addr() == addr {
			return true
		}
	}
	return false
}

// pod returns the pod, nil when it does not exist (confirmed live).
func (o *owners) pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	if p, err := o.pods.Pods(ns).Get(name); err == nil {
		return p, nil
	}
	p, err := o.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return p, err
}

// k8sNodeExists reports whether the Kubernetes Node exists (confirmed live).
func (o *owners) k8sNodeExists(ctx context.Context, name string) (bool, error) {
	if _, err := o.nodes.Get(name); err == nil {
		return true, nil
	}
	_, err := o.kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// nodeExists reports whether the node IPAM names exists. With the
// Kubernetes datastore Calico's nodes are the Kubernetes Nodes; with etcd
// it is the Calico Node (hosts outside Kubernetes have one too; the node
// controller deletes those of deleted Kubernetes Nodes).
func (o *owners) nodeExists(ctx context.Context, name string) (bool, error) {
	if o.kdd {
		return o.k8sNodeExists(ctx, name)
	}
	_, err := o.backend.Get(ctx, datastore.Key{Kind: v3.KindNode, Name: name})
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// checkOptions are the IPAM Check options backed by these answers.
func (o *owners) checkOptions() ipam.CheckOptions {
	return ipam.CheckOptions{OwnerExists: o.allocationExists, NodeExists: o.nodeExists}
}
