package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// Shape of the generated cluster.
const (
	benchNamespaces = 20
	benchNodes      = 50
)

func namespaceName(i int) string { return fmt.Sprintf("ns-%02d", i%benchNamespaces) }
func nodeName(i int) string      { return fmt.Sprintf("node-%02d", i%benchNodes) }

// podIP is the i-th pod address in 10.244.0.0/16.
func podIP(i int) string { return fmt.Sprintf("10.244.%d.%d", (i/250)%256, i%250+1) }

// makePod is a realistic deployment pod: owner reference, a handful of
// labels, the Calico CNI annotations, two containers with a named port, a
// service account and, when withStatus, a running status with its IP (the
// API server resets status on create, so pods created through the API carry
// their IP only in the CNI annotations, as in Calico's KDD mode).
func makePod(i int, withStatus bool) *corev1.Pod {
	ip := podIP(i)
	app := fmt.Sprintf("app-%03d", i%200)
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s-7d9f8c6b5-%05d", app, i),
			Namespace: namespaceName(i),
			Labels: map[string]string{
				"app": app, "version": "v1", "pod-template-hash": "7d9f8c6b5", "tier": []string{"web", "api", "db"}[i%3],
			},
			Annotations: map[string]string{
				conversion.AnnotationPodIP:       ip + "/32",
				conversion.AnnotationPodIPs:      ip + "/32",
				conversion.AnnotationContainerID: fmt.Sprintf("%064x", i),
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-7d9f8c6b5", UID: types.UID(fmt.Sprintf("uid-%d", i%200))}},
		},
		Spec: corev1.PodSpec{
			NodeName:           nodeName(i),
			ServiceAccountName: "default",
			Containers: []corev1.Container{
				{Name: "main", Image: "registry.example/app:1.0", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}},
				{Name: "sidecar", Image: "registry.example/proxy:1.0", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(9090)}}}},
			},
		},
	}
	if withStatus {
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "198.18.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	}
	return p
}
