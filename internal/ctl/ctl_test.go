package ctl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

// harness runs calicoctl in-process against one memory datastore.
type harness struct {
	t   *testing.T
	c   *client.Client
	dir string
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, c: client.New(memory.New()), dir: t.TempDir()}
}

func (h *harness) run(stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(args, Options{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Open: func(context.Context, string) (*client.Client, func() error, error) {
			return h.c, func() error { return nil }, nil
		},
	})
	return out.String(), errb.String(), code
}

func (h *harness) file(name, content string) string {
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

const twoPools = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-a}
spec: {cidr: 10.10.0.0/16, natOutgoing: true}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-b}
spec: {cidr: 10.20.0.0/16, disabled: true}
`

func TestMain_ApplyFromStdinThenPrintTables(t *testing.T) {
	h := newHarness(t)
	out, errOut, code := h.run(twoPools, "apply", "-f", "-")
	if code != 0 || out != "Successfully applied 2 'IPPool' resource(s)\n" {
		t.Fatalf("apply: code %d out %q err %q", code, out, errOut)
	}
	out, _, _ = h.run("", "get", "ippools")
	want := "NAME     CIDR           SELECTOR   \npool-a   10.10.0.0/16   all()      \npool-b   10.20.0.0/16   all()      \n\n"
	if out != want {
		t.Errorf("ps table:\n%q\nwant\n%q", out, want)
	}
	out, _, _ = h.run("", "get", "ippool", "pool-b", "-o", "wide")
	if !strings.Contains(out, "pool-b   10.20.0.0/16   false   Never      Never       true") {
		t.Errorf("wide row:\n%s", out)
	}
	_, errOut, code = h.run("", "get", "ippools", "-o", "custom-columns=NAME,NOPE")
	if code != 1 || !strings.Contains(errOut, `unknown column "NOPE" for IPPool`) {
		t.Errorf("bad custom column: code %d err %q", code, errOut)
	}
	_, errOut, code = h.run("", "get", "ippools", "-o", "xml")
	if code != 1 || !strings.Contains(errOut, "unrecognized output format 'xml'") {
		t.Errorf("bad -o: code %d err %q", code, errOut)
	}
}

func TestMain_DirectoryInputReadsYamlAndJSONFiles(t *testing.T) {
	h := newHarness(t)
	sub := filepath.Join(h.dir, "in")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "a.yaml"), []byte(twoPools), 0o644)
	os.WriteFile(filepath.Join(sub, "b.json"), []byte(`{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"pool-c"},"spec":{"cidr":"10.30.0.0/16"}}`), 0o644)
	os.WriteFile(filepath.Join(sub, "notes.txt"), []byte("ignored"), 0o644)
	out, errOut, code := h.run("", "create", "-f", sub)
	if code != 0 || !strings.Contains(out, "Successfully created 3 'IPPool' resource(s)") {
		t.Fatalf("create dir: code %d out %q err %q", code, out, errOut)
	}
}

func TestMain_EmptyInputAndUsageErrors(t *testing.T) {
	h := newHarness(t)
	empty := h.file("empty.yaml", "# nothing\n---\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"apply", "-f", empty}, "No resources specified in file"},
		{[]string{"apply"}, "needs -f/--filename"},
		{[]string{"apply", "-f", filepath.Join(h.dir, "missing.yaml")}, "Failed to execute command"},
		{[]string{"get", "bogus"}, `resource type "bogus" is not supported`},
		{[]string{"delete", "ippool"}, "delete needs <KIND> <NAME>"},
		{[]string{"label", "ippool", "p", "novalue"}, "invalid label novalue"},
		{[]string{"patch", "ippool", "p", "-p", "{", "--type", "json"}, "not supported yet"},
		{[]string{"nosuchcommand"}, "unknown command"},
	}
	for _, tc := range cases {
		_, errOut, code := h.run("", tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d, stderr %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
