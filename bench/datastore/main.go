// Command datastore measures the etcd datastore backends in one run: the
// embedded server Tricolor runs by default, against Debian's external etcd
// as the baseline (and the embedded server without fsync, for reference).
//
// For each it reports compare-and-swap updates per second (sequential
// read-modify-write over -keys keys for -duration, and the same with
// -writers goroutines) and watch delivery latency: the time from Update
// returning to a watcher receiving the event, over -samples updates.
//
//	go run ./bench/datastore -duration 5s -out /tmp/datastore.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
	"github.com/tricolor-net/tricolor/internal/testutil"
)

// options are the command-line settings.
type options struct {
	duration time.Duration
	keys     int
	writers  int
	samples  int
	out      string
	noFsync  bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long each CAS throughput phase runs")
	flag.IntVar(&o.keys, "keys", 16, "keys the CAS phases cycle over")
	flag.IntVar(&o.writers, "writers", 8, "goroutines in the parallel CAS phase (each on its own keys)")
	flag.IntVar(&o.samples, "samples", 2000, "watch latency samples per backend")
	flag.StringVar(&o.out, "out", "", "also write the markdown fragment to this file")
	flag.BoolVar(&o.noFsync, "no-fsync-row", true, "also measure the embedded server with UnsafeNoFsync (reference only)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/datastore:", err)
		os.Exit(1)
	}
}

// target is one backend under measurement.
type target struct {
	name  string
	start func(dir string) (endpoint string, stop func(), err error)
}

func run(o options, stdout io.Writer) error {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	targets := []target{
		{"external etcd (Debian, baseline)", testutil.LaunchEtcd},
		{"embedded etcd", embedded(false)},
	}
	if o.noFsync {
		targets = append(targets, target{"embedded etcd, UnsafeNoFsync (tests only)", embedded(true)})
	}
	var rows []result
	for _, tg := range targets {
		fmt.Fprintf(os.Stderr, "measuring %s ...\n", tg.name)
		r, err := measureTarget(o, tg)
		if err != nil {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
		rows = append(rows, r)
	}
	md := render(o, rows)
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.out, err)
		}
	}
	return nil
}

// embedded starts an in-process server, the way calico-node does.
func embedded(noFsync bool) func(dir string) (string, func(), error) {
	return func(dir string) (string, func(), error) {
		e, err := etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{DataDir: dir, UnsafeNoFsync: noFsync})
		if err != nil {
			return "", nil, err
		}
		return e.Endpoints()[0], e.Close, nil
	}
}

// measureTarget starts the server in a fresh directory, measures it and
// stops it.
func measureTarget(o options, tg target) (result, error) {
	dir, err := os.MkdirTemp("", "tricolor-bench-etcd-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	endpoint, stop, err := tg.start(dir)
	if err != nil {
		return result{}, err
	}
	defer stop()
	b, err := etcd.New(etcd.Config{Endpoints: []string{endpoint}})
	if err != nil {
		return result{}, err
	}
	defer b.Close()
	r := result{name: tg.name}
	ctx := context.Background()
	if r.casSeq, err = casThroughput(ctx, b, "seq", o.keys, 1, o.duration); err != nil {
		return r, fmt.Errorf("sequential CAS: %w", err)
	}
	if r.casPar, err = casThroughput(ctx, b, "par", o.keys, o.writers, o.duration); err != nil {
		return r, fmt.Errorf("parallel CAS: %w", err)
	}
	if r.lat, err = watchLatency(ctx, b, o.samples); err != nil {
		return r, fmt.Errorf("watch latency: %w", err)
	}
	return r, nil
}

// machine describes where the figures were taken.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					cpu = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
