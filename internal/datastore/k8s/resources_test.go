package k8s

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestStatusKinds_MatchTheCRDs keeps statusKinds in step with the CRDs that
// declare a status subresource.
func TestStatusKinds_MatchTheCRDs(t *testing.T) {
	files, err := filepath.Glob("../../../manifests/crds/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs found: %v", err)
	}
	withStatus := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd struct {
			Spec struct {
				Names    struct{ Kind string }
				Versions []struct {
					Subresources struct {
						Status *struct{} `json:"status"`
					} `json:"subresources"`
				}
			}
		}
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			if v.Subresources.Status != nil {
				withStatus[crd.Spec.Names.Kind] = true
			}
		}
		if k, err := lookup(crd.Spec.Names.Kind); err != nil || k.status != withStatus[crd.Spec.Names.Kind] {
			t.Errorf("%s: kind %s has status subresource %v in the CRD but %v in statusKinds (lookup err %v)",
				f, crd.Spec.Names.Kind, withStatus[crd.Spec.Names.Kind], k.status, err)
		}
	}
	if len(withStatus) == 0 {
		t.Fatalf("no CRD declares a status subresource; the test reads the wrong files")
	}
}
