package v3_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tricolor-net/tricolor/api/numorstring"
	v3 "github.com/tricolor-net/tricolor/api/v3"
)

// The corpus is the project's compatibility contract: every document in
// testdata/corpus must decode strictly, default, validate and re-encode
// without losing a field; every document in testdata/invalid must be
// rejected with the message its "# expect:" line names. test/compat decodes
// the same corpus with Calico's own types and compares the encodings.

// minValidDocs is the corpus size the project committed to.
const minValidDocs = 40

// corpusDoc is one YAML document and where it came from.
type corpusDoc struct {
	where string // file#index, for messages
	text  []byte
}

// splitDocs splits a multi-document YAML file on "---" separator lines and
// drops documents holding only comments and blank lines.
func splitDocs(t *testing.T, path string) []corpusDoc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []corpusDoc
	var cur []string
	flush := func() {
		text := strings.Join(cur, "\n")
		cur = nil
		for _, l := range strings.Split(text, "\n") {
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
				docs = append(docs, corpusDoc{where: fmt.Sprintf("%s#%d", filepath.Base(path), len(docs)), text: []byte(text)})
				return
			}
		}
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimRight(l, " \t\r") == "---" {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return docs
}

// decodeStrict finds the document's kind and decodes it strictly into that
// kind's type: unknown fields and type mismatches are errors.
func decodeStrict(doc []byte) (v3.Resource, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, err
	}
	if head.APIVersion != v3.GroupVersionCurrent {
		return nil, fmt.Errorf("apiVersion %q is not %s", head.APIVersion, v3.GroupVersionCurrent)
	}
	r, err := v3.NewResource(head.Kind)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(doc, r); err != nil {
		return nil, err
	}
	return r, nil
}

func TestCorpus_ValidDocumentsRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/corpus/*.yaml")
	if len(files) == 0 {
		t.Fatal("no corpus files in testdata/corpus")
	}
	seen := map[string]int{}
	total := 0
	for _, f := range files {
		for _, d := range splitDocs(t, f) {
			total++
			t.Run(d.where, func(t *testing.T) {
				r, err := decodeStrict(d.text)
				if err != nil {
					t.Fatalf("strict decode: %v", err)
				}
				seen[r.GetObjectKind().GroupVersionKind().Kind]++
				r.Default()
				if err := r.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				var in map[string]any
				if err := yaml.Unmarshal(d.text, &in); err != nil {
					t.Fatal(err)
				}
				out, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				var back map[string]any
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatal(err)
				}
				if lost := missingFrom(in, back, ""); len(lost) > 0 {
					t.Errorf("re-encoding lost or changed input fields:\n  %s\nre-encoded: %s", strings.Join(lost, "\n  "), out)
				}
			})
		}
	}
	if total < minValidDocs {
		t.Errorf("corpus has %d valid documents; the project committed to at least %d", total, minValidDocs)
	}
	var missing []string
	for _, k := range v3.Kinds() {
		if seen[k.Kind] == 0 {
			missing = append(missing, k.Kind)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("kinds with no valid corpus document: %s", strings.Join(missing, ", "))
	}
}

func TestCorpus_InvalidDocumentsRejectedWithExpectedMessage(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no files in testdata/invalid")
	}
	for _, f := range files {
		for _, d := range splitDocs(t, f) {
			t.Run(d.where, func(t *testing.T) {
				want := expectation(d.text)
				if want == "" {
					t.Fatal(`document has no "# expect: <text>" line`)
				}
				r, err := decodeStrict(d.text)
				if err == nil {
					r.Default()
					err = r.Validate()
				}
				if err == nil {
					t.Fatalf("accepted; want an error containing %q", want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not contain %q", err, want)
				}
			})
		}
	}
}

// expectation returns the text of the document's "# expect:" line.
func expectation(doc []byte) string {
	for _, l := range bytes.Split(doc, []byte("\n")) {
		s := strings.TrimSpace(string(l))
		if rest, ok := strings.CutPrefix(s, "# expect:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// missingFrom lists the paths of in that are absent from out or whose
// values differ beyond Calico's own normalisations (durations re-rendered,
// numbers written as strings, dotted AS numbers).
func missingFrom(in, out any, path string) []string {
	switch iv := in.(type) {
	case map[string]any:
		om, ok := out.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, out)}
		}
		var lost []string
		for k, v := range iv {
			ov, ok := om[k]
			if !ok {
				if isZero(v) {
					continue // null, false, 0, "" or empty dropped by omitempty: nothing lost
				}
				lost = append(lost, path+"."+k+": missing")
				continue
			}
			lost = append(lost, missingFrom(v, ov, path+"."+k)...)
		}
		return lost
	case []any:
		ol, ok := out.([]any)
		if !ok || len(ol) != len(iv) {
			return []string{fmt.Sprintf("%s: want %d items, got %v", path, len(iv), out)}
		}
		var lost []string
		for i := range iv {
			lost = append(lost, missingFrom(iv[i], ol[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return lost
	default:
		if leafEqual(in, out) {
			return nil
		}
		return []string{fmt.Sprintf("%s: %v became %v", path, in, out)}
	}
}

func leafEqual(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	as, aIsStr := a.(string)
	bs, bIsStr := b.(string)
	bf, bIsNum := b.(float64)
	switch {
	case aIsStr && bIsStr:
		da, err1 := time.ParseDuration(as)
		db, err2 := time.ParseDuration(bs)
		return err1 == nil && err2 == nil && da == db
	case aIsStr && bIsNum:
		if f, err := strconv.ParseFloat(as, 64); err == nil && f == bf {
			return true
		}
		n, err := numorstring.ParseASNumber(as)
		return err == nil && float64(n) == bf
	}
	af, aIsNum := a.(float64)
	return aIsNum && bIsNum && af == bf
}

// isZero reports whether a decoded YAML value is its type's zero value,
// which an omitempty field legitimately drops on re-encoding.
func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
