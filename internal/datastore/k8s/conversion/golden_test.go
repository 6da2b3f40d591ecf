package conversion

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// convertFile decodes one Kubernetes object and converts it by its kind,
// returning the Calico resource (or nil) and the conversion error, if any.
func convertFile(t *testing.T, path string) (any, error) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Kind string }
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	decode := func(into any) {
		if err := yaml.UnmarshalStrict(raw, into); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	switch meta.Kind {
	case "Namespace":
		var ns corev1.Namespace
		decode(&ns)
		return NamespaceToProfile(&ns), nil
	case "ServiceAccount":
		var sa corev1.ServiceAccount
		decode(&sa)
		return ServiceAccountToProfile(&sa), nil
	case "Pod":
		var pod corev1.Pod
		decode(&pod)
		wep, err := PodToWorkloadEndpoint(&pod)
		if wep == nil {
			return nil, err
		}
		return wep, err
	case "Node":
		var n corev1.Node
		decode(&n)
		out, err := K8sNodeToCalico(&n)
		if out == nil {
			return nil, err
		}
		return out, err
	case "NetworkPolicy":
		var np networkingv1.NetworkPolicy
		decode(&np)
		return NetworkPolicyToCalico(&np)
	}
	t.Fatalf("%s: unexpected kind %q", path, meta.Kind)
	return nil, nil
}

// TestConversion_MatchesGoldenFiles converts every testdata/<kind>/<case>.yaml
// and compares the Calico resource (as YAML, with any conversion error as a
// leading comment) against <case>.golden. Run with -update to rewrite them,
// then review the diff.
func TestConversion_MatchesGoldenFiles(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/*.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(strings.TrimPrefix(in, "testdata/"), ".yaml")
		t.Run(name, func(t *testing.T) {
			out, cerr := convertFile(t, in)
			var got strings.Builder
			if cerr != nil {
				got.WriteString("# error: " + cerr.Error() + "\n")
			}
			if v, ok := out.(interface{ Validate() error }); ok && out != nil {
				// What we show must be a valid Calico resource.
				if err := v.Validate(); err != nil {
					t.Errorf("converted resource is not valid: %v", err)
				}
			}
			if out != nil {
				b, err := yaml.Marshal(out)
				if err != nil {
					t.Fatal(err)
				}
				got.Write(b)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestConversion_MatchesGoldenFiles -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Fatalf("%s differs from %s:\n--- got ---\n%s--- want ---\n%s", in, golden, got.String(), want)
			}
		})
	}
}
