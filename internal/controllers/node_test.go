package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// A Kubernetes Node is deleted: its Calico Node goes, the addresses whose
// owners are gone (a deleted pod's, the node's tunnel address) are
// released, its affinities are released — while a pod that still exists
// keeps its address, another node keeps everything, and (etcd mode) a
// Calico Node outside Kubernetes is left alone. With the etcd datastore
// and with the Kubernetes datastore.
func TestNodeController_DeletedNodeReleasesCalicoNodeAffinitiesAndAddresses(t *testing.T) {
	onEachDatastore(t, nodeDeletionStory)
}

func nodeDeletionStory(t *testing.T, cl *cluster) {
	ctx := context.Background()
	cl.namespace("apps", nil)
	cl.node("node-a")
	cl.node("node-b")
	kept := []string{"node-b"}
	if !cl.kdd {
		cl.calicoNode("bare-metal-host", nil)
		kept = append(kept, "bare-metal-host")
	}

	cl.allocate("k8s-pod-network.gone", "node-a", "apps", "gone") // pod deleted without CNI DEL
	cl.allocate(ipam.TunnelHandle("vxlan", "node-a"), "node-a", "", "")
	cl.pod("apps", "still-there", "node-a", nil)
	cl.allocate("k8s-pod-network.still", "node-a", "apps", "still-there")
	cl.pod("apps", "on-b", "node-b", nil)
	cl.allocate("k8s-pod-network.onb", "node-b", "apps", "on-b")
	cl.allocate(ipam.TunnelHandle("vxlan", "node-b"), "node-b", "", "")

	// A long grace period: only the node controller may release here.
	cl.start(Config{Enabled: []string{ControllerNode}, LeakGracePeriod: time.Hour, ReconcilerPeriod: time.Hour})
	if !cl.allocated("k8s-pod-network.gone") {
		t.Fatal("an address was released before its node was deleted")
	}

	if err := cl.kube.CoreV1().Nodes().Delete(ctx, "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the Calico Node of node-a is deleted", func() bool {
		return !cl.exists(datastore.Key{Kind: v3.KindNode, Name: "node-a"})
	})
	eventually(t, 30*time.Second, "node-a's affinities are released", func() bool {
		l, err := cl.be.List(ctx, datastore.ListOptions{Kind: v3.KindBlockAffinity, NamePrefix: "node-a-"})
		return err == nil && len(l.Items) == 0
	})
	if cl.allocated("k8s-pod-network.gone") || cl.allocated(ipam.TunnelHandle("vxlan", "node-a")) {
		t.Error("node-a's leaked pod address or tunnel address is still allocated")
	}
	if !cl.allocated("k8s-pod-network.still") {
		t.Error("the address of a pod that still exists was released")
	}
	if !cl.allocated("k8s-pod-network.onb") || !cl.allocated(ipam.TunnelHandle("vxlan", "node-b")) {
		t.Error("node-b's addresses were released")
	}
	for _, n := range kept {
		if !cl.exists(datastore.Key{Kind: v3.KindNode, Name: n}) {
			t.Errorf("Calico Node %s was deleted", n)
		}
	}
	r, err := cl.ipam.Check(ctx, ipam.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.BlocksOfMissingNodes) != 0 || len(r.StaleAffinities) != 0 || len(r.HandlesWithoutAllocations) != 0 {
		t.Errorf("IPAM inconsistent after the cleanup: %+v", r)
	}
}
