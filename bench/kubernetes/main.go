// Command kubernetes measures the kubernetes datastore (k8s.KDD) in one
// run against a real kube-apiserver (testutil's, .cache/bin/kube-apiserver):
//
//   - conversion throughput of -pods pods to WorkloadEndpoints in memory,
//     against plain JSON decoding of the same pods (baseline);
//
//   - listing -api-pods pods from the API server as WorkloadEndpoints,
//     against the raw pod list (baseline);
//
//   - latency from a Pod label change (the start of the update call) to the
//     calculation graph of the node emitting the IP set membership change
//     (Felix's syncer over the combined backend feeding internal/calc; the
//     nftables set itself is not driven), against the same change made to a
//     Calico NetworkSet (CRD) through the same path, and against the raw
//     Pod watch event.
//
//     go run ./bench/kubernetes -out /tmp/kubernetes.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// options are the command-line settings.
type options struct {
	pods, apiPods, samples, rounds, writers int
	out                                     string
}

func main() {
	var o options
	flag.IntVar(&o.pods, "pods", 10000, "pods converted in memory")
	flag.IntVar(&o.apiPods, "api-pods", 10000, "pods created in the API server (listed, and present during the latency phases)")
	flag.IntVar(&o.samples, "samples", 200, "latency samples per path")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds of each throughput measurement (the median is reported)")
	flag.IntVar(&o.writers, "writers", 32, "goroutines creating the API server's pods")
	flag.StringVar(&o.out, "out", "", "also write the markdown fragment to this file")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/kubernetes:", err)
		os.Exit(1)
	}
}

func run(o options, stdout io.Writer) (err error) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	tb := &programTB{}
	defer tb.close()
	defer func() {
		switch r := recover().(type) {
		case nil:
		case fatal:
			err = fmt.Errorf("test API server: %s", r.msg)
		default:
			panic(r)
		}
	}()

	fmt.Fprintf(os.Stderr, "converting %d pods in memory ...\n", o.pods)
	conv, err := measureConversion(o.pods, o.rounds)
	if err != nil {
		return err
	}

	fmt.Fprintln(os.Stderr, "starting kube-apiserver ...")
	if testutil.KubeAPIServerBinary() == "" {
		return fmt.Errorf("kube-apiserver binary not found: build it with `make kube-apiserver`")
	}
	rc := testutil.StartKubeAPIServer(tb)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(rc)
	dyn := dynamic.NewForConfigOrDie(rc)
	kdd, err := k8s.NewKDD(rc)
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "creating %d pods in the API server ...\n", o.apiPods)
	list := apiListResult{pods: o.apiPods}
	if list.create, err = createPods(ctx, cs, o.apiPods, o.writers); err != nil {
		return err
	}
	created := list.create
	if list, err = measureAPIList(ctx, dyn, kdd, o.apiPods, o.rounds); err != nil {
		return err
	}
	list.create = created

	fmt.Fprintln(os.Stderr, "latency: starting Felix's syncer and the calculation graph ...")
	lb, err := setupLatency(ctx, cs, kdd)
	if err != nil {
		return err
	}
	var lats []latencyResult
	for _, phase := range []func(context.Context, int) (latencyResult, error){lb.podToIPSet, lb.crdToIPSet, lb.podWatch} {
		r, err := phase(ctx, o.samples)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "  %s: p50 %s\n", r.name, percentile(r.samples, 50))
		lats = append(lats, r)
	}
	md := render(o, conv, list, lats)
	fmt.Fprint(stdout, md)
	if o.out != "" {
		return os.WriteFile(o.out, []byte(md), 0o644)
	}
	return nil
}

// render writes the markdown fragment (without the section heading).
func render(o options, conv []conversionResult, list apiListResult, lats []latencyResult) string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	ratio := func(a, base float64) string {
		if base == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", a/base)
	}
	fmt.Fprintf(&b, "Pods → WorkloadEndpoints, in memory, %d pods (median of %d interleaved rounds; ratio = rate / baseline rate):\n\n", o.pods, o.rounds)
	b.WriteString("| step | pods/s | ratio |\n|---|---:|---:|\n")
	for _, c := range conv {
		fmt.Fprintf(&b, "| %s | %.0f | %s |\n", c.name, c.rate, ratio(c.rate, conv[0].rate))
	}
	fmt.Fprintf(&b, "\nListing %d pods from the API server (created in %s with %d writers; median of %d rounds):\n\n", list.pods, list.create.Round(time.Second), o.writers, o.rounds)
	b.WriteString("| list | time | pods/s | ratio |\n|---|---:|---:|---:|\n")
	rate := func(d time.Duration) float64 { return float64(list.pods) / d.Seconds() }
	fmt.Fprintf(&b, "| raw pods, dynamic client, pages of 500 (baseline) | %s | %.0f | 1.00 |\n", ms(list.raw), rate(list.raw))
	fmt.Fprintf(&b, "| WorkloadEndpoints through k8s.KDD (%d items) | %s | %.0f | %s |\n", list.viewItemCount, ms(list.viaView), rate(list.viaView), ratio(rate(list.viaView), rate(list.raw)))
	fmt.Fprintf(&b, "\nLatency to the node's IP set update, %d samples per path, %d other pods in the cluster. Measured from the start of the write call to the calculation graph (`internal/calc`, fed by Felix's syncer over k8s.KDD) emitting the IP set delta; the nftables set is not driven. The write call's own duration is shown apart: the watch event usually reaches the syncer before the write response reaches the writer, so latencies counted from the call returning are mostly ≤ 0. Ratio = p50 / the NetworkSet path's p50:\n\n", o.samples, list.pods)
	b.WriteString("| path | p50 | p99 | max | write call p50 | ratio (p50) |\n|---|---:|---:|---:|---:|---:|\n")
	base := percentile(lats[1].samples, 50)
	for _, l := range lats {
		p50 := percentile(l.samples, 50)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", l.name, ms(p50), ms(percentile(l.samples, 99)), ms(percentile(l.samples, 100)), ms(percentile(l.writes, 50)), ratio(float64(p50), float64(base)))
	}
	return b.String()
}
