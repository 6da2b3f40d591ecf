package selector

import "testing"

// benchSelector has ten terms covering every operator kind; against
// benchLabels every term matches, so && has to evaluate all ten (worst case).
const benchSelector = `app == "web" && tier in {"frontend", "backend", "cache"} && has(version) && ` +
	`env != "prod" && !has(debug) && region starts with "eu-" && zone ends with "-1a" && ` +
	`team contains "net" && k8s-app not in {"kube-dns", "coredns"} && projectcalico.org/namespace == "default"`

// benchLabels is a 20-label set typical of a pod with its namespace labels.
var benchLabels = map[string]string{
	"app":                              "web",
	"tier":                             "frontend",
	"version":                          "v1.2.3",
	"env":                              "staging",
	"region":                           "eu-west",
	"zone":                             "eu-west-1a",
	"team":                             "networking",
	"k8s-app":                          "web-frontend",
	"projectcalico.org/namespace":      "default",
	"projectcalico.org/orchestrator":   "k8s",
	"projectcalico.org/serviceaccount": "web",
	"pod-template-hash":                "5d8f7c9b6d",
	"app.kubernetes.io/name":           "web",
	"app.kubernetes.io/instance":       "web-prod",
	"app.kubernetes.io/version":        "1.2.3",
	"app.kubernetes.io/component":      "frontend",
	"app.kubernetes.io/part-of":        "shop",
	"app.kubernetes.io/managed-by":     "helm",
	"owner":                            "team-net",
	"cost-center":                      "1234",
}

func BenchmarkEvaluate10Terms20Labels(b *testing.B) {
	sel := MustParse(benchSelector)
	if len(benchLabels) != 20 || !sel.Evaluate(benchLabels) {
		b.Fatalf("benchmark setup: want 20 labels that all ten terms match")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !sel.Evaluate(benchLabels) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkEvaluateBaseline10MapLookups is the floor for the benchmark
// above: the ten label lookups alone, with no evaluation. Report Evaluate as a
// ratio to it, measured in the same run (machines are noisy).
func BenchmarkEvaluateBaseline10MapLookups(b *testing.B) {
	keys := []string{"app", "tier", "version", "env", "debug", "region", "zone", "team", "k8s-app", "projectcalico.org/namespace"}
	n := 0
	for b.Loop() {
		for _, k := range keys {
			if _, ok := benchLabels[k]; ok {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("no lookups hit")
	}
}

func BenchmarkEvaluateLabels10Terms20Labels(b *testing.B) {
	sel := MustParse(benchSelector)
	l := MapLabels(benchLabels)
	b.ReportAllocs()
	for b.Loop() {
		if !sel.EvaluateLabels(l) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParse10Terms(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchSelector); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvaluate_DoesNotAllocate(t *testing.T) {
	sel := MustParse(benchSelector)
	l := MapLabels(benchLabels)
	if n := testing.AllocsPerRun(100, func() { sel.Evaluate(benchLabels); sel.EvaluateLabels(l) }); n != 0 {
		t.Errorf("evaluation allocates %.1f times per run, want 0", n)
	}
}
