// Package manifests_test validates the install manifests against a real
// kube-apiserver by server-side dry-run apply, and checks that they agree
// with the binaries they run.
package manifests_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/tricolor-net/tricolor/internal/installcni"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// readObjects decodes every document of the YAML files.
func readObjects(t *testing.T, files ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(obj) == 0 {
				continue
			}
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	return out
}

func manifestFiles(t *testing.T) []string {
	t.Helper()
	crds, err := filepath.Glob("crds/*.yaml")
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in manifests/crds: %v", err)
	}
	return append(crds, "tricolor.yaml")
}

// applier returns a function that server-side applies an object to the
// API server at rc; with dryRun it is validated and defaulted but not
// stored.
func applier(t *testing.T, rc *rest.Config) func(obj *unstructured.Unstructured, dryRun bool) error {
	t.Helper()
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return func(obj *unstructured.Unstructured, dryRun bool) error {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		var res dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			res = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		opts := metav1.ApplyOptions{FieldManager: "tricolor-manifests-test", Force: true}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err = res.Apply(context.Background(), obj.GetName(), obj, opts)
		return err
	}
}

// Every object of every manifest is accepted by a real API server
// (server-side apply, dry run: validation, defaulting, schema and admission
// run; nothing is stored).
func TestManifests_ServerSideDryRunApply(t *testing.T) {
	rc := testutil.StartKubeAPIServer(t)
	applyObj := applier(t, rc)
	apply := func(obj *unstructured.Unstructured) error { return applyObj(obj, true) }

	objs := readObjects(t, manifestFiles(t)...)
	kinds := map[string]int{}
	for _, obj := range objs {
		kinds[obj.GetKind()]++
		if err := apply(obj); err != nil {
			t.Errorf("%s %s/%s refused: %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	for kind, n := range map[string]int{"CustomResourceDefinition": 24, "DaemonSet": 1, "Deployment": 1, "ConfigMap": 1,
		"ServiceAccount": 3, "ClusterRole": 3, "ClusterRoleBinding": 3, "Role": 1, "RoleBinding": 1} {
		if kinds[kind] != n {
			t.Errorf("%d %s objects, want %d", kinds[kind], kind, n)
		}
	}

	// The check can fail: an invalid DaemonSet (no selector) is refused.
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": map[string]any{"name": "broken", "namespace": "kube-system"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "c", "image": "x"}}}}},
	}}
	if err := apply(bad); err == nil {
		t.Error("a DaemonSet without selector was accepted: the dry run validates nothing")
	}
}

// kustomization.yaml lists every CRD and tricolor.yaml, so `kubectl apply
// -k manifests/` installs everything.
func TestManifests_KustomizationListsEveryFile(t *testing.T) {
	raw, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	want := manifestFiles(t)
	got := slices.Clone(k.Resources)
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v\nwant %v (add new CRDs there)", got, want)
	}
}

// The manifests run commands the image has, with the environment they
// read: install-cni renders the ConfigMap's template into a valid conflist,
// and every command is one of cmd/.
func TestManifests_AgreeWithTheBinaries(t *testing.T) {
	var cm corev1.ConfigMap
	var ds appsv1.DaemonSet
	var dep appsv1.Deployment
	for _, obj := range readObjects(t, "tricolor.yaml") {
		var into any
		switch obj.GetKind() {
		case "ConfigMap":
			into = &cm
		case "DaemonSet":
			into = &ds
		case "Deployment":
			into = &dep
		default:
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"cni_network_config", "veth_mtu", "calico_backend", "typha_service_name"} {
		if _, ok := cm.Data[k]; !ok {
			t.Errorf("calico-config has no %s", k)
		}
	}
	cfg := installcni.Config{ConfName: installcni.DefaultConfName, CNINetDir: installcni.DefaultCNINetDir,
		NetworkConfig: cm.Data["cni_network_config"], NodeName: "node-1", DatastoreType: "kubernetes", LogLevel: "info"}
	if _, err := installcni.Render(cfg, "token"); err != nil {
		t.Errorf("install-cni cannot render the ConfigMap's cni_network_config: %v", err)
	}

	pod := ds.Spec.Template.Spec
	containers := append(slices.Clone(pod.InitContainers), pod.Containers...)
	containers = append(containers, dep.Spec.Template.Spec.Containers...)
	for _, c := range containers {
		if len(c.Command) == 0 {
			t.Errorf("container %s has no command; the image runs several binaries", c.Name)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "cmd", c.Command[0])); err != nil {
			t.Errorf("container %s runs %q, which is not a binary of cmd/", c.Name, c.Command[0])
		}
	}
	if len(pod.InitContainers) != 1 || strings.Join(pod.InitContainers[0].Command, " ") != "calico-node install-cni" {
		t.Errorf("calico-node's init container should run `calico-node install-cni`: %+v", pod.InitContainers)
	}
	// calico-node's CNI token refresher rewrites the kubeconfig at
	// install-cni's container path.
	netDirMounted := false
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.MountPath == installcni.DefaultHostNetDir {
			netDirMounted = !m.ReadOnly
		}
	}
	if !netDirMounted {
		t.Errorf("calico-node does not mount %s read-write; its CNI token refresher writes calico-kubeconfig there", installcni.DefaultHostNetDir)
	}
	env := map[string]bool{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = true
	}
	for _, name := range []string{"DATASTORE_TYPE", "CALICO_IPV4POOL_CIDR", "CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN",
		"IP_AUTODETECTION_METHOD", "CALICO_NETWORKING_BACKEND", "CLUSTER_TYPE", "NODENAME"} {
		if !env[name] {
			t.Errorf("calico-node container lacks %s", name)
		}
	}
}
