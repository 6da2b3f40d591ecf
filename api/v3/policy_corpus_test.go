package v3

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// These tests check the policy-side corpus on their own (strict decode,
// Default, Validate) until the shared corpus harness covers every kind.

var expectLine = regexp.MustCompile(`(?m)^# expect: (.+)$`)

// loadPolicyDoc decodes, defaults and validates one corpus file; the first
// error (decode or validation) is returned.
func loadPolicyDoc(data []byte) (Resource, error) {
	var tm struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	r, err := NewResource(tm.Kind)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, r); err != nil {
		return nil, err
	}
	r.Default()
	return r, r.Validate()
}

func policyCorpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "policy-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/%s/policy-*.yaml files (%v)", dir, err)
	}
	return files
}

func TestPolicyCorpus_ValidDocumentsDecodeDefaultAndValidate(t *testing.T) {
	files := policyCorpusFiles(t, "corpus")
	if len(files) < 20 {
		t.Errorf("only %d valid policy documents; the corpus should hold at least 20", len(files))
	}
	kinds := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := loadPolicyDoc(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		kinds[r.GetObjectKind().GroupVersionKind().Kind] = true
		// Defaulting twice changes nothing and the result still validates.
		again := r.DeepCopyObject().(Resource)
		again.Default()
		if err := again.Validate(); err != nil {
			t.Errorf("%s: after a second Default: %v", f, err)
		}
	}
	for _, k := range policyKinds() {
		if !kinds[k.Kind] {
			t.Errorf("no valid corpus document of kind %s", k.Kind)
		}
	}
}

func TestPolicyCorpus_InvalidDocumentsFailWithTheExpectedMessage(t *testing.T) {
	for _, f := range policyCorpusFiles(t, "invalid") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := expectLine.FindSubmatch(data)
		if m == nil {
			t.Errorf("%s: no leading '# expect: <substring>' comment", f)
			continue
		}
		want := strings.TrimSpace(string(m[1]))
		_, err = loadPolicyDoc(data)
		if err == nil {
			t.Errorf("%s: accepted; want an error containing %q", f, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %q", f, err, want)
		}
	}
}
