package cluster

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/testutil"
)

// netpolFocus selects the upstream NetworkPolicy suite.
const netpolFocus = `\[sig-network\] Netpol`

// netpolSkip leaves out the SCTP connectivity cases: this kernel has no sctp
// module, so no pod can open an SCTP socket whatever the policy says. The
// cases that only name SCTP in a policy and probe over TCP still run.
const netpolSkip = `\[Feature:SCTPConnectivity\]`

// TestPrivilegedCluster_NetpolE2E runs the upstream e2e suite focused on
// `[sig-network] Netpol` (e2e.test from k8s.io/kubernetes, the cluster's
// version) against a two-node cluster with kube-proxy, and fails on any
// failed case. It takes long, so it runs only with TRICOLOR_E2E_K8S=1
// (`make e2e-k8s`). TRICOLOR_E2E_FOCUS narrows the focus,
// TRICOLOR_E2E_TIMEOUT bounds the suite (default 2h), and the JUnit report
// and log are copied to TRICOLOR_E2E_REPORT_DIR (default .cache/e2e-k8s).
func TestPrivilegedCluster_NetpolE2E(t *testing.T) {
	if os.Getenv("TRICOLOR_E2E_K8S") == "" {
		t.Skip("the upstream NetworkPolicy e2e suite runs for a long time; run it with `make e2e-k8s` (TRICOLOR_E2E_K8S=1)")
	}
	focus := envOr("TRICOLOR_E2E_FOCUS", netpolFocus)
	timeout := envOr("TRICOLOR_E2E_TIMEOUT", "2h")
	root, err := testutil.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	keep := envOr("TRICOLOR_E2E_REPORT_DIR", filepath.Join(root, ".cache", "e2e-k8s"))
	c := Up(t, Options{Nodes: 2, KubeProxy: true, ExtraKubeBinaries: []string{"e2e.test"}})
	report := filepath.Join(c.Dir, "e2e-report")
	if err := os.MkdirAll(report, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// e2e.test runs in the control-plane namespace, where the API server
	// and every kubelet are reachable; it execs into pods through the API.
	p := c.start(c.ControlPlane.Name, "e2e", nil, c.bins.Kube["e2e.test"],
		"--kubeconfig="+filepath.Join(c.Dir, "admin.kubeconfig"), "--provider=local", "--num-nodes=2",
		"--ginkgo.focus="+focus, "--ginkgo.skip="+netpolSkip, "--ginkgo.timeout="+timeout,
		"--ginkgo.no-color", "--ginkgo.v", "--report-dir="+report, "--e2e-output-dir="+report,
		"--disable-log-dump", "--minStartupPods=0")
	<-p.done
	wall := time.Since(start).Round(time.Second)
	if err := os.MkdirAll(keep, 0o755); err == nil {
		for _, f := range append(globs(report, "*.xml"), p.log) {
			_ = copyFile(f, filepath.Join(keep, filepath.Base(f)))
		}
	}
	sum, err := summarizeJUnit(globs(report, "junit*.xml"))
	if err != nil {
		t.Fatalf("e2e.test (exit %v) left no usable JUnit report: %v\n%s", p.cmd.ProcessState, err, p.tail(60))
	}
	t.Logf("upstream e2e %q (skip %q): %s; wall time %s; report in %s", focus, netpolSkip, sum, wall, keep)
	if sum.failed > 0 {
		t.Errorf("%d upstream NetworkPolicy cases failed:\n  %s", sum.failed, strings.Join(sum.failures, "\n  "))
	}
}

// junitSummary counts a ginkgo JUnit report's cases.
type junitSummary struct {
	passed, failed, skipped int
	failures                []string
}

func (s junitSummary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failed, s.skipped)
}

// summarizeJUnit reads ginkgo's JUnit files.
func summarizeJUnit(files []string) (junitSummary, error) {
	var s junitSummary
	if len(files) == 0 {
		return s, fmt.Errorf("no junit*.xml")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return s, err
		}
		var doc struct {
			Suites []struct {
				Cases []struct {
					Name    string    `xml:"name,attr"`
					Failure *struct{} `xml:"failure"`
					Error   *struct{} `xml:"error"`
					Skipped *struct{} `xml:"skipped"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			return s, fmt.Errorf("%s: %w", f, err)
		}
		for _, suite := range doc.Suites {
			for _, tc := range suite.Cases {
				// Ginkgo also reports its suite-level nodes
				// ([SynchronizedBeforeSuite], [ReportAfterSuite], ...).
				if strings.HasPrefix(tc.Name, "[") && strings.HasSuffix(tc.Name, "Suite]") {
					continue
				}
				switch {
				case tc.Failure != nil || tc.Error != nil:
					s.failed++
					s.failures = append(s.failures, tc.Name)
				case tc.Skipped != nil:
					s.skipped++
				default:
					s.passed++
				}
			}
		}
	}
	sort.Strings(s.failures)
	return s, nil
}

func globs(dir, pattern string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return m
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
