//go:build tools

// Package kubeapiserver pins the k8s.io/kubernetes module so that
// `go build k8s.io/kubernetes/cmd/kube-apiserver` resolves from this module's
// go.mod and go.sum. It is test-only: nothing in Tricolor imports it.
package kubeapiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
