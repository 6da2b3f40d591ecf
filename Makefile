# Tricolor — build, test, demo and benchmark entry points.
# Everything expensive is cached under .cache/ (git-ignored).

GO       ?= go
BIN      := bin
CACHE    := $(CURDIR)/.cache
GOBIN_T  := $(CACHE)/bin
CONTROLLER_GEN := $(GOBIN_T)/controller-gen
CONTROLLER_GEN_VERSION := v0.20.1
# A real kube-apiserver for tests, built from k8s.io/kubernetes (nested module).
KUBE_APISERVER := $(GOBIN_T)/kube-apiserver
KUBE_VERSION = $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" {print $$3}' test/kube-apiserver/go.mod)
KUBE_LDFLAGS = -s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) -X k8s.io/component-base/version.gitTreeState=clean
# Debian packages the tests use (real peers, never mocks).
DEB_PKGS := etcd-server iproute2 nftables iputils-ping bird2 frr containernetworking-plugins iperf3 tcpdump containerd runc
TEST_TIMEOUT ?= 35m

# The rest of a cluster, for test/cluster (same nested module and version).
K8S_BINS := $(addprefix $(GOBIN_T)/,kube-controller-manager kube-scheduler kubelet kube-proxy)

.PHONY: all build demo test unit-test compat-test deps bench lint generate clean kube-apiserver k8s-bins e2e-k8s

all: build

## build: compile every binary into bin/
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

## deps: install the Debian packages tests need (idempotent; needs root)
deps:
	@hack/install-deps.sh $(DEB_PKGS)

## test: install what tests need, then run every test (unit, privileged, e2e, compat)
test: deps build kube-apiserver k8s-bins unit-test compat-test

## kube-apiserver: build the test kube-apiserver into .cache/bin (cached; rebuilt when test/kube-apiserver/go.mod changes)
kube-apiserver: $(KUBE_APISERVER)

$(KUBE_APISERVER): test/kube-apiserver/go.mod
	@mkdir -p $(GOBIN_T)
	cd test/kube-apiserver && GOFLAGS=-mod=mod $(GO) build -ldflags='$(KUBE_LDFLAGS)' -o $(KUBE_APISERVER) k8s.io/kubernetes/cmd/kube-apiserver

## k8s-bins: build kubelet, kube-scheduler, kube-controller-manager, kube-proxy and agnhost into .cache/bin (cached; what the cluster smoke test needs)
k8s-bins: $(KUBE_APISERVER) $(K8S_BINS) $(GOBIN_T)/agnhost

$(K8S_BINS): test/kube-apiserver/go.mod
	@mkdir -p $(GOBIN_T)
	cd test/kube-apiserver && GOFLAGS=-mod=mod $(GO) build -ldflags='$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/$(@F)

$(GOBIN_T)/agnhost: test/kube-apiserver/go.mod
	@mkdir -p $(GOBIN_T)
	cd test/kube-apiserver && CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) build -ldflags='$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/test/images/agnhost

$(GOBIN_T)/e2e.test: test/kube-apiserver/go.mod
	@mkdir -p $(GOBIN_T)
	cd test/kube-apiserver && GOFLAGS=-mod=mod $(GO) test -c -ldflags='$(KUBE_LDFLAGS)' -o $@ k8s.io/kubernetes/test/e2e

## e2e-k8s: the upstream NetworkPolicy e2e suite ([sig-network] Netpol) against a test/cluster cluster
e2e-k8s: deps build k8s-bins $(GOBIN_T)/e2e.test
	TRICOLOR_E2E_K8S=1 $(GO) test -count=1 -v -timeout 3h -run TestPrivilegedCluster_NetpolE2E ./test/cluster/

unit-test:
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## compat-test: cross-check our API types against the published Calico API (nested module)
compat-test:
	cd test/compat && $(GO) test -count=1 ./...

## demo: build everything and run the most complete end-to-end path that exists
demo: build
	@hack/demo.sh

## bench: run the benchmarks and write docs/benchmarks.md
bench: deps build
	@hack/bench.sh

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

## generate: deep-copy functions and CRD manifests from api/v3
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd:crdVersions=v1,allowDangerousTypes=true paths=./api/... output:crd:dir=manifests/crds
	hack/crd-fixups.sh manifests/crds

$(CONTROLLER_GEN):
	GOBIN=$(GOBIN_T) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)

clean:
	rm -rf $(BIN)
