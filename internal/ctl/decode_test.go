package ctl

import (
	"strings"
	"testing"

	v3 "github.com/tricolor-net/tricolor/api/v3"
)

func decodeString(t *testing.T, content string) []loaded {
	t.Helper()
	docs, err := readDocs("in.yaml", strings.NewReader(content))
	if err != nil {
		t.Fatalf("readDocs: %v", err)
	}
	return decodeDocs(docs)
}

func TestDecode_SplitsDocumentsListsAndSequences(t *testing.T) {
	content := `# leading comment only
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: a}
spec: {cidr: 10.1.0.0/16}
---
---
apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: b}
  spec: {cidr: 10.2.0.0/16}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: c}
  spec: {cidr: 10.3.0.0/16}
---
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: d}
  spec: {cidr: 10.4.0.0/16}
---
{"apiVersion": "projectcalico.org/v3", "kind": "List", "items": [{"apiVersion": "projectcalico.org/v3", "kind": "IPPool", "metadata": {"name": "e"}, "spec": {"cidr": "10.5.0.0/16"}}]}
`
	items := decodeString(t, content)
	want := []struct{ name, where string }{
		{"a", "in.yaml document 1"},
		{"b", "in.yaml document 2 item 1"},
		{"c", "in.yaml document 2 item 2"},
		{"d", "in.yaml document 3 item 1"},
		{"e", "in.yaml document 4 item 1"},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		if items[i].Err != nil {
			t.Fatalf("item %d: %v", i, items[i].Err)
		}
		if items[i].Resource.GetName() != w.name || items[i].Where != w.where {
			t.Errorf("item %d: %s at %q, want %s at %q", i, items[i].Resource.GetName(), items[i].Where, w.name, w.where)
		}
		if p, ok := items[i].Resource.(*v3.IPPool); !ok || p.Spec.CIDR == "" {
			t.Errorf("item %d decoded as %T %+v", i, items[i].Resource, items[i].Resource)
		}
	}
}

func TestDecode_ErrorsNameDocumentResourceAndField(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string
	}{
		{"unknown spec field", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16, natOutgoin: true}\n",
			[]string{`ippool "p"`, `unknown field "spec.natOutgoin"`, "natOutgoing"}},
		{"wrong case field", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {CIDR: 10.0.0.0/16}\n",
			[]string{`unknown field "spec.CIDR"`, `did you mean "cidr"?`}},
		{"unknown metadata field", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p, label: {a: b}}\n",
			[]string{`unknown field "metadata.label"`}},
		{"unknown top-level field", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspecs: {}\n",
			[]string{`unknown field "specs"`}},
		{"wrong type", "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16, blockSize: big}\n",
			[]string{`ippool "p"`, "spec.blockSize"}},
		{"unknown kind", "apiVersion: projectcalico.org/v3\nkind: Pool\nmetadata: {name: p}\n", []string{`kind "Pool"`, "IPPool"}},
		{"kind in wrong case", "apiVersion: projectcalico.org/v3\nkind: ippool\nmetadata: {name: p}\n", []string{`did you mean "IPPool"?`}},
		{"missing kind", "apiVersion: projectcalico.org/v3\nmetadata: {name: p}\n", []string{"kind is required"}},
		{"missing apiVersion", "kind: IPPool\nmetadata: {name: p}\n", []string{`ippool "p"`, "apiVersion is required"}},
		{"not a mapping", "just a string\n", []string{"invalid document"}},
		{"invalid YAML", "kind: IPPool\nmetadata: {name: [p\n", []string{"invalid YAML"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items := decodeString(t, tc.content)
			if len(items) != 1 || items[0].Err == nil {
				t.Fatalf("want one failed item, got %+v", items)
			}
			msg := locate(items[0].Where, items[0].Err)
			for _, w := range append([]string{"in.yaml document 1"}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("missing %q in %q", w, msg)
				}
			}
		})
	}
}

func TestMergePatch_FollowsRFC7386(t *testing.T) {
	doc := map[string]any{"a": "b", "c": map[string]any{"d": "e", "f": "g"}, "arr": []any{1.0}}
	patch := map[string]any{"a": "z", "c": map[string]any{"f": nil, "h": "i"}, "arr": []any{2.0, 3.0}}
	got := mergePatch(doc, patch).(map[string]any)
	c := got["c"].(map[string]any)
	if got["a"] != "z" || c["d"] != "e" || c["h"] != "i" || len(got["arr"].([]any)) != 2 {
		t.Errorf("unexpected merge result %v", got)
	}
	if _, ok := c["f"]; ok {
		t.Errorf("null did not delete: %v", c)
	}
}

func TestApplyNamespace_FollowsCalicoctlRules(t *testing.T) {
	pool := v3.NewIPPool()
	pool.Name = "p"
	if err := applyNamespace(pool, "prod", false); err == nil || !strings.Contains(err.Error(), "not namespaced") {
		t.Errorf("-n on a cluster-scoped kind: got %v", err)
	}
	pool.Namespace = "x"
	if err := applyNamespace(pool, "", false); err == nil || !strings.Contains(err.Error(), "metadata.namespace must be empty") {
		t.Errorf("namespace on a cluster-scoped kind: got %v", err)
	}
}
