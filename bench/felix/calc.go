package main

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/bench/internal/stats"
	"github.com/tricolor-net/tricolor/internal/calc"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/testutil/loadgen"
)

// calcSpec is the calc graph's benchmark cluster, the same shape as
// internal/calc's Go benchmarks: 10,000 endpoints (1,000 local), 2,000
// policies.
var calcSpec = loadgen.Spec{Node: "bench-node", Endpoints: 10_000, Local: 1_000, Policies: 2_000}

// childModes are the ways a child process consumes the cluster.
const (
	childDecode = "calc-decode" // decode every resource, no graph (the baseline)
	childGraph  = "calc-graph"  // full sync through the calc graph
)

// childResult is what a child prints on stdout.
type childResult struct {
	Seconds float64 `json:"seconds"`
	Inputs  int     `json:"inputs"`
	Outputs int     `json:"outputs"`
	// PeakRSSKB is the child's VmHWM. Not getrusage's maxrss: a child
	// started with vfork (as Go does) inherits the parent's high-water
	// mark at exec, so maxrss would report the parent's size.
	PeakRSSKB int `json:"peakRSSKB"`
}

// runChild is the child side: read the input the parent wrote (not
// timed), consume it once as mode says, print a childResult. The parent
// generates the input, so the child's peak RSS is the input's bytes plus
// what consuming them costs.
func runChild(mode, input string, w io.Writer) error {
	f, err := os.Open(input)
	if err != nil {
		return err
	}
	var ups []datastore.Update
	err = gob.NewDecoder(bufio.NewReader(f)).Decode(&ups)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", input, err)
	}
	runtime.GC()
	res := childResult{Inputs: len(ups)}
	start := time.Now()
	switch mode {
	case childDecode:
		empty := map[string]v3.Resource{} // v3.NewResource builds its kind table per call: once per kind
		for i := range ups {
			proto, ok := empty[ups[i].Key.Kind]
			if !ok {
				if proto, err = v3.NewResource(ups[i].Key.Kind); err != nil {
					return err
				}
				empty[ups[i].Key.Kind] = proto
			}
			r := proto.DeepCopyObject().(v3.Resource)
			if err := json.Unmarshal(ups[i].Value, r); err != nil {
				return fmt.Errorf("decode %s: %w", ups[i].Key, err)
			}
			r.Default()
			res.Outputs++
		}
	case childGraph:
		g := calc.New(calc.Config{NodeName: calcSpec.Node, Log: slog.New(slog.DiscardHandler)})
		g.OnStatusUpdated(datastore.ResyncInProgress)
		g.OnUpdates(ups)
		g.OnStatusUpdated(datastore.InSync)
		res.Outputs = len(g.Flush())
		runtime.KeepAlive(g)
	default:
		return fmt.Errorf("unknown -child mode %q (want %s or %s)", mode, childDecode, childGraph)
	}
	res.Seconds = time.Since(start).Seconds()
	if res.PeakRSSKB, err = peakRSSKB(); err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(res)
}

// peakRSSKB reads this process's peak resident set size (VmHWM) in kB.
func peakRSSKB() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// calcRun is one child's outcome as the parent sees it.
type calcRun struct {
	childResult
	maxRSSMB float64 // the child's peak RSS
}

// calcResults holds alternating runs of both modes.
type calcResults struct{ decode, graph []calcRun }

// measureCalc runs the decode and graph children alternately, rounds each.
func measureCalc(rounds int) (*calcResults, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	input, err := writeCalcInput()
	if err != nil {
		return nil, err
	}
	defer os.Remove(input)
	r := &calcResults{}
	for i := range rounds {
		modes := []string{childDecode, childGraph}
		if i%2 == 1 {
			modes[0], modes[1] = modes[1], modes[0]
		}
		for _, m := range modes {
			run, err := runCalcChild(self, m, input)
			if err != nil {
				return nil, err
			}
			if m == childDecode {
				r.decode = append(r.decode, run)
			} else {
				r.graph = append(r.graph, run)
			}
		}
	}
	return r, nil
}

// writeCalcInput writes calcSpec's updates, gob-encoded, to a temporary
// file and returns its name.
func writeCalcInput() (string, error) {
	ups, err := loadgen.Updates(calcSpec.Objects())
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "tricolor-bench-calc-*.gob")
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriter(f)
	err = gob.NewEncoder(bw).Encode(ups)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write calc input: %w", err)
	}
	return f.Name(), nil
}

func runCalcChild(self, mode, input string) (calcRun, error) {
	cmd := exec.Command(self, "-child", mode, "-child-input", input)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return calcRun{}, fmt.Errorf("child %s: %w", mode, err)
	}
	var run calcRun
	if err := json.Unmarshal(out, &run.childResult); err != nil {
		return calcRun{}, fmt.Errorf("child %s printed %q: %w", mode, out, err)
	}
	run.maxRSSMB = float64(run.PeakRSSKB) / 1024
	return run, nil
}

func (r *calcResults) markdown() string {
	secs := func(rs []calcRun) []float64 {
		var out []float64
		for _, x := range rs {
			out = append(out, x.Seconds)
		}
		return out
	}
	rss := func(rs []calcRun) []float64 {
		var out []float64
		for _, x := range rs {
			out = append(out, x.maxRSSMB)
		}
		return out
	}
	dt, gt := stats.Median(secs(r.decode)), stats.Median(secs(r.graph))
	dr, gr := stats.Median(rss(r.decode)), stats.Median(rss(r.graph))
	g := r.graph[0]
	return fmt.Sprintf(`Full sync of %d resources (%d workload endpoints, %d on this node; %d policies; %d namespace profiles) in a fresh process, `+
		"median of %d runs each, alternating. Baseline: the same process decoding the same input into typed resources with no graph. "+
		"Peak RSS is the child's VmHWM; both children read the same pre-generated input (gob) first.\n\n"+
		"| Measurement | decode only (baseline) | calc graph full sync | ratio |\n|---|---|---|---|\n"+
		"| time | %.2f s | %.2f s (%d updates out) | %.2f× |\n"+
		"| peak RSS | %.0f MB | %.0f MB | %.2f× |\n",
		g.Inputs, calcSpec.Endpoints, calcSpec.Local, calcSpec.Policies, g.Inputs-calcSpec.Endpoints-calcSpec.Policies-1, len(r.graph),
		dt, gt, g.Outputs, gt/dt, dr, gr, gr/dr)
}
