package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"sigs.k8s.io/yaml"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// binary is the calicoctl built once by TestMain; the end-to-end tests run
// it as a user would, against Debian's external etcd.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "calicoctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "calicoctl")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build calicoctl: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cluster is one external etcd and the environment calicoctl reaches it by.
type cluster struct {
	t        *testing.T
	endpoint string
	dir      string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	return &cluster{t: t, endpoint: testutil.StartEtcd(t), dir: t.TempDir()}
}

// run executes calicoctl with ETCD_ENDPOINTS set (and nothing else that
// could select another datastore) and returns stdout, stderr and exit code.
func (c *cluster) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(filteredEnv(), "ETCD_ENDPOINTS="+c.endpoint, "TRICOLOR_EMBEDDED_ETCD_DIR="+filepath.Join(c.dir, "embedded"))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run calicoctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// ok runs calicoctl and fails the test unless it exits 0.
func (c *cluster) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("calicoctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs calicoctl, requires exit code 1 and returns stderr.
func (c *cluster) fails(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 1 {
		c.t.Fatalf("calicoctl %s: exit %d, want 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return errOut
}

// file writes content to a file in the test's directory.
func (c *cluster) file(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// dump returns every key, value and mod revision in etcd plus the store
// revision: if anything was written, it differs.
func (c *cluster) dump() string {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "\x00", clientv3.WithFromKey())
	if err != nil {
		c.t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "revision %d\n", resp.Header.Revision)
	for _, kv := range resp.Kvs {
		fmt.Fprintf(&b, "%s@%d=%s\n", kv.Key, kv.ModRevision, kv.Value)
	}
	return b.String()
}

// filteredEnv drops variables that would point calicoctl elsewhere.
func filteredEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		switch {
		case strings.HasPrefix(name, "ETCD_"), strings.HasPrefix(name, "CALICO_"), strings.HasPrefix(name, "K8S_"),
			name == "DATASTORE_TYPE", name == "KUBECONFIG", name == "TRICOLOR_EMBEDDED_ETCD_DIR":
			continue
		}
		env = append(env, e)
	}
	return env
}

// havePolicyKinds reports whether the policy kinds are registered in api/v3.
func havePolicyKinds() bool {
	for _, k := range []string{"NetworkPolicy", "GlobalNetworkPolicy", "Tier", "NetworkSet", "GlobalNetworkSet"} {
		if _, err := v3.LookupKind(k); err != nil {
			return false
		}
	}
	return true
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

const poolsYAML = `# two pools
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.10.0.0/16
  ipipMode: Always
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
spec:
  cidr: 10.20.0.0/16
  blockSize: 28
  vxlanMode: CrossSubnet
`

const policiesYAML = `---
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: security.allow-web
  namespace: prod
spec:
  tier: security
  order: 10
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    destination:
      ports: [80, 443]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-dns
spec:
  selector: all()
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: blocked
  labels: {role: blocked}
spec:
  nets: [198.51.100.0/24]
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: partners
  namespace: prod
spec:
  nets: [203.0.113.0/24]
`

func TestE2E_ResourceLifecycle(t *testing.T) {
	c := newCluster(t)
	content, kinds := poolsYAML, "'IPPool' resource(s)"
	if havePolicyKinds() {
		content += policiesYAML
		kinds = "resource(s)"
	} else {
		t.Log("policy kinds are not registered yet: lifecycle covers IPPools only")
	}
	f := c.file("resources.yaml", content)
	out := c.ok("apply", "-f", f)
	n := strings.Count(content, "kind: ")
	mustContain(t, "apply", out, fmt.Sprintf("Successfully applied %d %s", n, kinds))

	t.Run("get ps and wide", func(t *testing.T) {
		ps := c.ok("get", "ippools")
		mustContain(t, "get ippools", ps, "NAME", "CIDR", "SELECTOR", "pool-a", "10.10.0.0/16", "pool-b", "all()")
		if strings.Contains(ps, "IPIPMODE") {
			t.Errorf("ps output has wide columns:\n%s", ps)
		}
		wide := c.ok("get", "ippool", "-o", "wide")
		mustContain(t, "get -o wide", wide, "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "Always", "CrossSubnet")
		cc := c.ok("get", "pools", "-o", "custom-columns=NAME,BLOCKSIZE")
		mustContain(t, "custom-columns", cc, "BLOCKSIZE", "pool-b", "28", "26")
	})

	t.Run("get yaml and json", func(t *testing.T) {
		var list v3.IPPoolList
		if err := yaml.Unmarshal([]byte(c.ok("get", "ippools", "-o", "yaml")), &list); err != nil {
			t.Fatal(err)
		}
		if list.Kind != "IPPoolList" || len(list.Items) != 2 || list.ResourceVersion == "" {
			t.Fatalf("yaml list: kind %q, %d items, rv %q", list.Kind, len(list.Items), list.ResourceVersion)
		}
		if list.Items[1].Spec.BlockSize != 28 || list.Items[0].Spec.BlockSize != 26 || list.Items[0].UID == "" {
			t.Errorf("yaml list content: %+v", list.Items)
		}
		var one v3.IPPool
		if err := json.Unmarshal([]byte(c.ok("get", "ippool", "pool-b", "-o", "json")), &one); err != nil {
			t.Fatal(err)
		}
		if one.Kind != "IPPool" || one.Spec.CIDR != "10.20.0.0/16" || one.ResourceVersion == "" {
			t.Errorf("json object: %+v", one)
		}
		exp := c.ok("get", "ippool", "pool-b", "-o", "yaml", "--export")
		if strings.Contains(exp, "resourceVersion") || strings.Contains(exp, "uid:") {
			t.Errorf("--export kept cluster metadata:\n%s", exp)
		}
		tmpl := c.ok("get", "ippools", "-o", "go-template={{range .Items}}{{.Name}}={{.Spec.CIDR}};{{end}}")
		if tmpl != "pool-a=10.10.0.0/16;pool-b=10.20.0.0/16;" {
			t.Errorf("go-template output %q", tmpl)
		}
		tf := c.file("names.tmpl", `{{range .Items}}{{.Name}} {{end}}`)
		mustContain(t, "go-template-file", c.ok("get", "ippools", "-o", "go-template-file="+tf), "pool-a pool-b")
	})

	if havePolicyKinds() {
		t.Run("get namespaced", func(t *testing.T) {
			prod := c.ok("get", "networkpolicy", "-n", "prod")
			mustContain(t, "get -n prod", prod, "NAMESPACE", "NAME", "TIER", "prod", "security.allow-web", "security")
			def := c.ok("get", "networkpolicies")
			mustContain(t, "get (default ns)", def, "allow-dns", "default")
			if strings.Contains(def, "allow-web") {
				t.Errorf("default namespace listing shows prod's policy:\n%s", def)
			}
			all := c.ok("get", "policies", "-A", "-o", "wide")
			mustContain(t, "get -A", all, "NAMESPACE", "ORDER", "SELECTOR", "security.allow-web", "allow-dns", "app == 'web'")
			mustContain(t, "tiers", c.ok("get", "tiers"), "security", "100", "default")
			mustContain(t, "networksets", c.ok("get", "networksets", "-n", "prod", "-o", "wide"), "partners", "203.0.113.0/24")
			stderr := c.fails("delete", "tier", "default")
			mustContain(t, "delete default tier", stderr, `tier "default" cannot be deleted`)
			stderr = c.fails("delete", "tier", "security")
			mustContain(t, "delete used tier", stderr, `tier "security" still holds 1 policies`)
		})
	}

	t.Run("patch", func(t *testing.T) {
		out := c.ok("patch", "ippool", "pool-a", "-p", `{"spec":{"natOutgoing":true}}`)
		mustContain(t, "patch", out, "Successfully patched 1 'IPPool' resource")
		mustContain(t, "after patch", c.ok("get", "ippool", "pool-a", "-o", "yaml"), "natOutgoing: true", "ipipMode: Always")
		out = c.ok("patch", "ippool", "pool-a", "-p", "spec:\n  disabled: true\n")
		mustContain(t, "yaml patch", c.ok("get", "ippool", "pool-a", "-o", "wide"), "true")
		_ = out
		stderr := c.fails("patch", "ippool", "pool-a", "-p", `{"spec":{"cidr":"10.99.0.0/16"}}`)
		mustContain(t, "patch cidr", stderr, `ippool "pool-a": spec.cidr cannot be changed`)
		stderr = c.fails("patch", "ippool", "pool-a", "-p", `{"spec":{"natOutgoin":true}}`)
		mustContain(t, "patch unknown field", stderr, `unknown field "spec.natOutgoin"`)
	})

	t.Run("label", func(t *testing.T) {
		mustContain(t, "label set", c.ok("label", "ippool", "pool-a", "env=prod"), "Successfully set label env on ippool pool-a")
		stderr := c.fails("label", "ippool", "pool-a", "env=dev")
		mustContain(t, "label refusal", stderr, "key env is already present", "--overwrite")
		mustContain(t, "after refusal", c.ok("get", "ippool", "pool-a", "-o", "yaml"), "env: prod")
		mustContain(t, "label overwrite", c.ok("label", "ippool", "pool-a", "env=dev", "--overwrite"), "Successfully updated label env on ippool pool-a")
		mustContain(t, "after overwrite", c.ok("get", "ippool", "pool-a", "-o", "yaml"), "env: dev")
		mustContain(t, "label remove", c.ok("label", "ippool", "pool-a", "env", "--remove"), "Successfully removed label env from ippool pool-a")
		if strings.Contains(c.ok("get", "ippool", "pool-a", "-o", "yaml"), "env:") {
			t.Error("label still present after --remove")
		}
		mustContain(t, "remove missing", c.fails("label", "ippool", "pool-a", "env", "--remove"), "key env does not exist")
	})

	t.Run("replace and create", func(t *testing.T) {
		rf := c.file("replace.yaml", strings.Replace(poolsYAML[strings.Index(poolsYAML, "---"):], "vxlanMode: CrossSubnet", "vxlanMode: Always", 1))
		mustContain(t, "replace", c.ok("replace", "-f", rf), "Successfully replaced 1 'IPPool' resource(s)")
		mustContain(t, "after replace", c.ok("get", "ippool", "pool-b", "-o", "yaml"), "vxlanMode: Always")
		mustContain(t, "create existing", c.fails("create", "-f", rf), `ippool "pool-b"`, "already exists")
		mustContain(t, "create --skip-exists", c.ok("create", "-f", rf, "--skip-exists"), "Successfully created 1 'IPPool' resource(s)")
		nf := c.file("new.yaml", strings.NewReplacer("pool-b", "pool-c", "10.20.0.0/16", "10.30.0.0/16").Replace(poolsYAML[strings.Index(poolsYAML, "---"):]))
		mustContain(t, "replace missing", c.fails("replace", "-f", nf), `ippool "pool-c"`, "does not exist")
		mustContain(t, "create", c.ok("create", "-f", nf), "Successfully created 1 'IPPool' resource(s)")
	})

	t.Run("delete", func(t *testing.T) {
		mustContain(t, "delete", c.ok("delete", "ippool", "pool-b"), "Successfully deleted 1 'IPPool' resource(s)")
		mustContain(t, "get deleted", c.fails("get", "ippool", "pool-b"), `ippool "pool-b"`, "does not exist")
		mustContain(t, "delete missing", c.fails("delete", "ippool", "pool-b"), "does not exist")
		mustContain(t, "delete --skip-not-exists", c.ok("delete", "ippool", "pool-b", "--skip-not-exists"), "Successfully deleted 1 'IPPool' resource(s)")
		mustContain(t, "delete -f", c.ok("delete", "-f", f, "--skip-not-exists"), "Successfully deleted")
		if out := c.ok("get", "ippools", "-o", "yaml"); strings.Contains(out, "pool-a") {
			t.Errorf("pool-a survived delete -f:\n%s", out)
		}
	})
}

func TestE2E_VersionAndConfig(t *testing.T) {
	c := newCluster(t)
	out := c.ok("version")
	mustContain(t, "version", out, "Client Version:", "Cluster Version:")
	cfg := c.file("calicoctl.cfg", fmt.Sprintf("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: %s\n", c.endpoint))
	f := c.file("p.yaml", poolsYAML)
	// The file alone must be enough: run with an environment that points nowhere.
	cmd := exec.Command(binary, "apply", "-c", cfg, "-f", f)
	cmd.Env = append(filteredEnv(), "ETCD_ENDPOINTS=http://127.0.0.1:1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apply with -c: %v\n%s", err, out)
	}
	mustContain(t, "get after -c apply", c.ok("get", "ippools"), "pool-a", "pool-b")
	mustContain(t, "missing -c file", c.fails("get", "ippools", "-c", filepath.Join(c.dir, "nope.cfg")), "nope.cfg")
	// The kubernetes datastore with no kubeconfig and outside a pod: a clear error naming the fix.
	cmd = exec.Command(binary, "get", "ippools")
	cmd.Env = append(filteredEnv(), "DATASTORE_TYPE=kubernetes")
	out2, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "set KUBECONFIG") {
		t.Errorf("kubernetes datastore without a kubeconfig: err %v, output %s", err, out2)
	}
}

// badCase is one invalid input: the command must exit 1, name where the
// problem is, and leave the datastore byte-for-byte unchanged.
type badCase struct {
	name    string
	content string
	command string // apply (default), create or replace
	wants   []string
	policy  bool // needs the policy kinds
}

const goodPool = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: %s
spec:
  cidr: %s
`

func pool(name, cidr string, extra ...string) string {
	return fmt.Sprintf(goodPool, name, cidr) + strings.Join(extra, "")
}

func TestE2E_BadInputChangesNothing(t *testing.T) {
	c := newCluster(t)
	base := pool("default-ipv4-ippool", "10.0.0.0/16")
	if havePolicyKinds() {
		base += "---\n" + policiesYAML
	}
	c.ok("apply", "-f", c.file("base.yaml", base))

	cases := []badCase{
		{name: "invalid YAML", content: "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: [x\n", wants: []string{"document 1", "invalid YAML"}},
		{name: "unknown field", content: pool("p1", "10.1.0.0/16", "  cidrr: 10.2.0.0/16\n"), wants: []string{"document 1", `ippool "p1"`, `unknown field "spec.cidrr"`}},
		{name: "unknown kind", content: strings.Replace(pool("p1", "10.1.0.0/16"), "kind: IPPool", "kind: IPPol", 1), wants: []string{"document 1", `kind "IPPol"`}},
		{name: "wrong apiVersion", content: strings.Replace(pool("p1", "10.1.0.0/16"), "projectcalico.org/v3", "v1", 1), wants: []string{`ippool "p1"`, "apiVersion"}},
		{name: "invalid selector", content: pool("p1", "10.1.0.0/16", "  nodeSelector: has(\n"), wants: []string{`ippool "p1"`, "spec.nodeSelector"}},
		{name: "bad CIDR", content: pool("p1", "10.1.0.0/33"), wants: []string{`ippool "p1"`, "spec.cidr", "10.1.0.0/33"}},
		{name: "CIDR with host bits", content: pool("p1", "10.1.0.1/16"), wants: []string{`ippool "p1"`, "spec.cidr", "10.1.0.0/16"}},
		{name: "blockSize out of range", content: pool("p1", "10.1.0.0/16", "  blockSize: 40\n"), wants: []string{`ippool "p1"`, "spec.blockSize", "20-32"}},
		{name: "overlapping enabled pools", content: pool("pool-b", "10.0.0.0/8"),
			wants: []string{`ippool "pool-b": spec.cidr 10.0.0.0/8 overlaps ippool "default-ipv4-ippool" (10.0.0.0/16); choose a CIDR outside it or disable one of the pools`}},
		{name: "overlap inside one file", content: pool("p1", "10.1.0.0/16") + "---\n" + pool("p2", "10.1.128.0/17"), wants: []string{"document 2", `ippool "p2"`, `overlaps ippool "p1"`}},
		{name: "CIDR change", content: pool("default-ipv4-ippool", "10.9.0.0/16"), wants: []string{`ippool "default-ipv4-ippool": spec.cidr cannot be changed`}},
		{name: "name not DNS-1123", content: pool("Bad_Pool", "10.1.0.0/16"), wants: []string{`ippool "Bad_Pool"`, "metadata.name"}},
		{name: "create existing", command: "create", content: pool("default-ipv4-ippool", "10.0.0.0/16"), wants: []string{`ippool "default-ipv4-ippool"`, "already exists"}},
		{name: "one bad document among good ones",
			content: pool("g1", "10.1.0.0/16") + "---\n" + pool("g2", "10.2.0.0/16") + "---\n" + pool("bad", "10.3.0.0/16", "  blockSize: 19\n") + "---\n" + pool("g3", "10.4.0.0/16"),
			wants:   []string{"document 3", `ippool "bad"`, "spec.blockSize"}},
		{name: "ports without TCP/UDP/SCTP", policy: true, content: `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: bad-ports, namespace: prod}
spec:
  ingress:
  - action: Allow
    destination:
      ports: [80]
`, wants: []string{`networkpolicy "prod/bad-ports"`, "spec.ingress[0]", "ports need protocol TCP, UDP or SCTP"}},
		{name: "ICMP with IPv6", policy: true, content: `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-icmp}
spec:
  ingress:
  - action: Allow
    protocol: ICMP
    ipVersion: 6
`, wants: []string{`globalnetworkpolicy "bad-icmp"`, "spec.ingress[0].ipVersion"}},
		{name: "preDNAT without applyOnForward", policy: true, content: `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad-prednat}
spec:
  preDNAT: true
  selector: has(host)
  ingress:
  - action: Deny
`, wants: []string{`globalnetworkpolicy "bad-prednat"`, "spec.applyOnForward"}},
		{name: "invalid policy selector", policy: true, content: `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: bad-sel}
spec:
  selector: app == 'web
`, wants: []string{`networkpolicy "default/bad-sel"`, "spec.selector"}},
		{name: "tier does not exist", policy: true, content: `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ghost.p1}
spec:
  tier: ghost
  selector: all()
`, wants: []string{`networkpolicy "default/ghost.p1"`, "spec.tier", `tier "ghost" does not exist`}},
		{name: "bad policy among good kinds", policy: true,
			content: pool("g1", "10.1.0.0/16") + "---\n" + `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ok-pol}
spec:
  selector: all()
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: bad-action}
spec:
  ingress:
  - action: allow
`, wants: []string{"document 3", `networkpolicy "default/bad-action"`, "spec.ingress[0].action"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.policy && !havePolicyKinds() {
				t.Skip("policy kinds are not registered in api/v3 yet")
			}
			f := c.file(fmt.Sprintf("bad-%02d.yaml", i), tc.content)
			command := tc.command
			if command == "" {
				command = "apply"
			}
			before := c.dump()
			stderr := c.fails(command, "-f", f)
			mustContain(t, tc.name, stderr, append([]string{filepath.Base(f)}, tc.wants...)...)
			if !strings.Contains(stderr, "Failed to "+command) {
				t.Errorf("message does not start with calicoctl's failure wording:\n%s", stderr)
			}
			if after := c.dump(); after != before {
				t.Errorf("datastore changed by a refused %s:\nbefore:\n%s\nafter:\n%s", command, before, after)
			}
		})
	}
	t.Run("validate command", func(t *testing.T) {
		good := c.file("good.yaml", pool("v1", "10.1.0.0/16"))
		mustContain(t, "validate good", c.ok("validate", "-f", good), "Successfully validated 1 resource(s)")
		bad := c.file("bad-validate.yaml", pool("v1", "10.1.0.0/16")+"---\n"+pool("v2", "300.1.0.0/16"))
		mustContain(t, "validate bad", c.fails("validate", "-f", bad), "bad-validate.yaml document 2", `ippool "v2"`, "spec.cidr")
	})
}
