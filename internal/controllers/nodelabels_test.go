package controllers

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// etcd mode, syncLabels: a Kubernetes Node's labels are copied onto its
// Calico Nodes (also one under another name, found by its orchRef); a
// label removed from the Kubernetes Node is removed from the Calico Node,
// while a label set only on the Calico Node stays. With syncLabels
// Disabled nothing is copied.
func TestSyncLabels_KubernetesNodeLabelsOntoCalicoNodes(t *testing.T) {
	cl := newCluster(t)
	cl.labelledNode("node-a", map[string]string{"zone": "z1", "role": "web"})
	cl.editNode("node-a", func(n *v3.Node) { n.Labels = map[string]string{"calico-only": "yes"} })
	kn := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b", Labels: map[string]string{"zone": "z2"}}}
	if _, err := cl.kube.CoreV1().Nodes().Create(context.Background(), kn, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.calicoNode("node-b.example", &v3.OrchRef{Orchestrator: "k8s", NodeName: "node-b"})
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(true)
	kcc.Spec.Controllers.Node.SyncLabels = "Disabled"
	if _, err := cl.c.Create(context.Background(), kcc); err != nil {
		t.Fatal(err)
	}
	cl.start(Config{Environment: envOf(map[string]string{"PROMETHEUS_METRICS_PORT": "0"})})
	cl.kccWhen("the status shows syncLabels Disabled", func(k *v3.KubeControllersConfiguration) bool {
		n := k.Status.RunningConfig.Controllers.Node
		return n != nil && n.SyncLabels == "Disabled"
	})
	time.Sleep(time.Second)
	if got := cl.calicoLabels("node-a"); !maps.Equal(got, map[string]string{"calico-only": "yes"}) {
		t.Fatalf("labels copied with syncLabels Disabled: %v", got)
	}

	cl.updateKCC(func(s *v3.KubeControllersConfigurationSpec) { s.Controllers.Node.SyncLabels = "Enabled" })
	cl.labelsWhen("node-a", map[string]string{"zone": "z1", "role": "web", "calico-only": "yes"})
	cl.labelsWhen("node-b.example", map[string]string{"zone": "z2"})
	if rec := cl.calicoAnnotation("node-a"); rec != `{"role":"web","zone":"z1"}` {
		t.Errorf("annotation %s = %s, want the copied labels", KubeLabelsAnnotation, rec)
	}

	cl.setKubeLabels("node-a", map[string]string{"zone": "z3"})
	cl.labelsWhen("node-a", map[string]string{"zone": "z3", "calico-only": "yes"})
	cl.setKubeLabels("node-b", map[string]string{"zone": "z2", "disk": "ssd"})
	cl.labelsWhen("node-b.example", map[string]string{"zone": "z2", "disk": "ssd"})
}

// mergeKubeLabels: set, overwrite, remove what was copied before and is
// gone, keep the rest; an unreadable record removes nothing.
func TestMergeKubeLabels(t *testing.T) {
	for _, tc := range []struct {
		name, record string
		calico, kube map[string]string
		want         map[string]string
		changed      bool
	}{
		{"first copy", "", map[string]string{"own": "1"}, map[string]string{"a": "1"}, map[string]string{"own": "1", "a": "1"}, true},
		{"unchanged", `{"a":"1"}`, map[string]string{"own": "1", "a": "1"}, map[string]string{"a": "1"}, map[string]string{"own": "1", "a": "1"}, false},
		{"removed and changed", `{"a":"1","b":"2"}`, map[string]string{"own": "1", "a": "1", "b": "2"}, map[string]string{"b": "3"},
			map[string]string{"own": "1", "b": "3"}, true},
		{"bad record", `{`, map[string]string{"a": "1"}, nil, map[string]string{"a": "1"}, true},
		{"everything removed", `{"a":"1"}`, map[string]string{"a": "1"}, nil, nil, true},
	} {
		got, rec, changed := mergeKubeLabels(tc.calico, tc.record, tc.kube)
		var recorded map[string]string
		if err := json.Unmarshal([]byte(rec), &recorded); err != nil || !maps.Equal(recorded, tc.kube) {
			t.Errorf("%s: record %s, want the Kubernetes labels %v", tc.name, rec, tc.kube)
		}
		if !maps.Equal(got, tc.want) || changed != tc.changed {
			t.Errorf("%s: %v changed=%v, want %v changed=%v", tc.name, got, changed, tc.want, tc.changed)
		}
	}
}

// calicoLabels reads a Calico Node's labels.
func (cl *cluster) calicoLabels(name string) map[string]string {
	cl.t.Helper()
	res, err := cl.c.Get(context.Background(), v3.KindNode, "", name)
	if err != nil {
		cl.t.Fatal(err)
	}
	return res.(*v3.Node).Labels
}

func (cl *cluster) calicoAnnotation(name string) string {
	cl.t.Helper()
	res, err := cl.c.Get(context.Background(), v3.KindNode, "", name)
	if err != nil {
		cl.t.Fatal(err)
	}
	return res.(*v3.Node).Annotations[KubeLabelsAnnotation]
}

// labelsWhen waits until a Calico Node has exactly these labels.
func (cl *cluster) labelsWhen(name string, want map[string]string) {
	cl.t.Helper()
	var got map[string]string
	deadline := time.Now().Add(20 * time.Second)
	for got = cl.calicoLabels(name); !maps.Equal(got, want); got = cl.calicoLabels(name) {
		if time.Now().After(deadline) {
			cl.t.Fatalf("Calico node %s has labels %v after 20s, want %v", name, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
