package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	calicov3 "github.com/projectcalico/api/pkg/apis/projectcalico/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// corpusGlob is the shared corpus, relative to this directory.
const corpusGlob = "../../api/v3/testdata/corpus/*.yaml"

// notInCalicoAPI are kinds Calico defines outside its public API module
// (libcalico-go); they cannot be cross-checked here.
var notInCalicoAPI = map[string]bool{
	"Node": true, "IPAMBlock": true, "IPAMHandle": true, "WorkloadEndpoint": true,
}

// notYetImplemented are Calico kinds Tricolor does not serve yet. The test
// reports them and fails if one appears here that Tricolor has since added
// (so the list cannot go stale).
var notYetImplemented = map[string]bool{
	"StagedKubernetesNetworkPolicy": true,
}

// calicoScheme knows every kind in Calico's projectcalico.org/v3 module.
func calicoScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := calicov3.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// calicoKinds lists Calico's resource kinds (not the List kinds).
func calicoKinds(s *runtime.Scheme) []string {
	var kinds []string
	for gvk := range s.AllKnownTypes() {
		if gvk.Group == calicov3.GroupName && !strings.HasSuffix(gvk.Kind, "List") && !strings.HasSuffix(gvk.Kind, "Options") && !strings.HasSuffix(gvk.Kind, "Event") {
			kinds = append(kinds, gvk.Kind)
		}
	}
	sort.Strings(kinds)
	return kinds
}

func TestCompat_EveryCalicoKindIsServed(t *testing.T) {
	s := calicoScheme(t)
	for _, k := range calicoKinds(s) {
		_, err := v3.NewResource(k)
		switch {
		case err != nil && notYetImplemented[k]:
			t.Logf("known gap: Calico kind %s is not implemented yet", k)
		case err != nil:
			t.Errorf("Calico kind %s has no Tricolor type: %v", k, err)
		case notYetImplemented[k]:
			t.Errorf("kind %s is implemented now; remove it from notYetImplemented", k)
		}
	}
}

// splitDocs splits a file on "---" lines, dropping comment-only documents.
func splitDocs(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range strings.Split("\n"+string(data)+"\n", "\n---\n") {
		for _, l := range strings.Split(d, "\n") {
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
				docs = append(docs, []byte(d))
				break
			}
		}
	}
	return docs
}

func TestCompat_CorpusEncodesIdentically(t *testing.T) {
	s := calicoScheme(t)
	files, _ := filepath.Glob(corpusGlob)
	if len(files) == 0 {
		t.Fatalf("no corpus at %s", corpusGlob)
	}
	compared := 0
	for _, f := range files {
		for i, doc := range splitDocs(t, f) {
			name := fmt.Sprintf("%s#%d", filepath.Base(f), i)
			t.Run(name, func(t *testing.T) {
				var head struct{ Kind string }
				if err := yaml.Unmarshal(doc, &head); err != nil {
					t.Fatal(err)
				}
				if notInCalicoAPI[head.Kind] {
					t.Skipf("%s is not in Calico's public API module", head.Kind)
				}
				theirs, err := s.New(calicov3.SchemeGroupVersion.WithKind(head.Kind))
				if err != nil {
					t.Fatalf("Calico has no kind %q: %v", head.Kind, err)
				}
				ours, err := v3.NewResource(head.Kind)
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.UnmarshalStrict(doc, theirs); err != nil {
					t.Fatalf("Calico's types reject the document: %v", err)
				}
				if err := yaml.UnmarshalStrict(doc, ours); err != nil {
					t.Fatalf("our types reject the document: %v", err)
				}
				a, b := canonical(t, theirs), canonical(t, ours)
				if a != b {
					t.Errorf("encodings differ\ncalico:   %s\ntricolor: %s", a, b)
				}
				compared++
			})
		}
	}
	t.Logf("compared %d documents with Calico's types", compared)
	if compared == 0 {
		t.Error("no document was compared")
	}
}

// canonical renders v as JSON with object keys sorted, so struct field
// order does not matter but every name and value does.
func canonical(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(generic) // maps marshal with sorted keys
	return string(out)
}
