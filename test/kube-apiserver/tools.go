//go:build tools

// Package kubeapiserver pins the k8s.io/kubernetes module so that the
// Kubernetes binaries the tests run resolve from this module's go.mod and
// go.sum: kube-apiserver (internal/testutil), and for test/cluster the
// kubelet, kube-scheduler, kube-controller-manager, kube-proxy, the agnhost
// test image and the e2e suite (built with `go test -c`). It is test-only:
// nothing in Tricolor imports it.
package kubeapiserver

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/test/e2e"
	_ "k8s.io/kubernetes/test/images/agnhost"
)
