package node

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tricolor-net/tricolor/internal/node/health"
)

// fakeComponent reports ready, then runs until cancelled or told to fail.
type fakeComponent struct {
	name string
	rep  *health.Reporter
	fail chan error
}

func (f *fakeComponent) Name() string { return f.name }

func (f *fakeComponent) Run(ctx context.Context) error {
	f.rep.Report(true, true, "")
	select {
	case <-ctx.Done():
		return nil
	case err := <-f.fail:
		return err
	}
}

func TestProcess_HostsComponentsAndStopsWhenOneFails(t *testing.T) {
	agg := health.NewAggregator()
	felix := &fakeComponent{name: "felix", rep: agg.Register("felix", health.GroupFelix, 0), fail: make(chan error, 1)}
	p := NewProcess(ProcessConfig{HealthAddr: "127.0.0.1:0", Health: agg, Components: []Component{felix}, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-p.Listening()
	base := "http://" + p.HealthListenAddr().String()
	deadline := time.Now().Add(5 * time.Second)
	for health.Probe(ctx, base, health.FelixLive, health.FelixReady) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("felix never became ready: %v", health.Probe(ctx, base, health.FelixReady))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := health.Probe(ctx, base, health.BirdReady); err == nil {
		t.Fatal("bird-ready passed although no BGP component runs")
	}
	felix.fail <- errors.New("dataplane exploded")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "component felix: dataplane exploded") {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("process did not stop after a component failed")
	}
}
