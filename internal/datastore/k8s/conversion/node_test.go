package conversion

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// TestMergeCalicoNodeIntoK8s checks what a Calico Node write does to its
// Kubernetes Node: annotation-backed fields set or removed, labels
// replaced, everything else kept, and the result reads back as the same
// Calico fields.
func TestMergeCalicoNodeIntoK8s(t *testing.T) {
	kn := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", ResourceVersion: "7", Labels: map[string]string{"old": "x"},
			Annotations: map[string]string{"keep": "me", AnnotationNodeIPv4VXLANTunnelAddr: "10.244.0.1"}},
		Spec:   corev1.NodeSpec{PodCIDRs: []string{"10.244.0.0/24"}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.18.0.1"}}},
	}
	asn := numorstring.ASNumber(64512)
	n := v3.NewNode()
	n.Name = "n1"
	n.Labels = map[string]string{"rack": "r1"}
	n.Spec.BGP = &v3.NodeBGPSpec{IPv4Address: "198.18.0.1/24", ASNumber: &asn, IPv4IPIPTunnelAddr: "10.244.0.2"}
	n.Spec.Addresses = []v3.NodeAddress{{Address: "1.2.3.4", Type: v3.InternalIP}} // derived: not written back

	out, err := MergeCalicoNodeIntoK8s(n, kn)
	if err != nil {
		t.Fatal(err)
	}
	wantAnn := map[string]string{
		"keep":                           "me",
		AnnotationNodeIPv4Address:        "198.18.0.1/24",
		AnnotationNodeASNumber:           "64512",
		AnnotationNodeIPv4IPIPTunnelAddr: "10.244.0.2",
	}
	if !reflect.DeepEqual(out.Annotations, wantAnn) {
		t.Errorf("annotations = %v; want %v (VXLAN address removed: the Calico Node has none)", out.Annotations, wantAnn)
	}
	if !reflect.DeepEqual(out.Labels, n.Labels) {
		t.Errorf("labels = %v; want %v", out.Labels, n.Labels)
	}
	if !reflect.DeepEqual(out.Spec, kn.Spec) || !reflect.DeepEqual(out.Status, kn.Status) || out.ResourceVersion != "7" {
		t.Errorf("spec, status or resourceVersion of the Kubernetes Node changed: %+v", out)
	}
	if kn.Annotations[AnnotationNodeIPv4VXLANTunnelAddr] == "" {
		t.Error("the input Kubernetes Node was modified")
	}
	back, err := K8sNodeToCalico(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Spec.BGP, n.Spec.BGP) || back.Spec.IPv4VXLANTunnelAddr != "" {
		t.Errorf("read back bgp = %+v, vxlan %q; want %+v and none", back.Spec.BGP, back.Spec.IPv4VXLANTunnelAddr, n.Spec.BGP)
	}
	if _, err := MergeCalicoNodeIntoK8s(&v3.Node{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, kn); err == nil {
		t.Error("merging a Calico Node onto another node's Kubernetes Node must fail")
	}
}
