package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/tricolor-net/tricolor/internal/node/health"
)

// Component is a long-running part of calico-node (Felix's calculation
// graph and dataplane, the BGP agent, ...). Run blocks until ctx ends or
// the component fails; a component reports its health through a
// health.Reporter it registered on the Process's Aggregator when it was
// built.
type Component interface {
	// Name identifies the component in logs and errors.
	Name() string
	// Run does the component's work until ctx is cancelled.
	Run(ctx context.Context) error
}

// ProcessConfig configures the node process.
type ProcessConfig struct {
	// HealthAddr is where the health endpoint listens (host:port; port 0
	// picks one). Empty: no health server.
	HealthAddr string
	// Health is the aggregator components report to (created when nil).
	Health *health.Aggregator
	// Components run for the life of the process.
	Components []Component
	// Logger receives lifecycle logs (default slog.Default()).
	Logger *slog.Logger
}

// Process hosts the node's components and its health endpoint.
type Process struct {
	cfg   ProcessConfig
	self  *health.Reporter
	ready chan struct{}
	addr  net.Addr
}

// HealthAddr returns the address of ProcessConfig.HealthAddr for Config's
// FELIX_HEALTHHOST / FELIX_HEALTHPORT.
func (c *Config) HealthAddr() string {
	return net.JoinHostPort(c.HealthHost, strconv.Itoa(c.HealthPort))
}

// NewProcess builds the process; nothing starts before Run.
func NewProcess(cfg ProcessConfig) *Process {
	if cfg.Health == nil {
		cfg.Health = health.NewAggregator()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Process{cfg: cfg, self: cfg.Health.Register("calico-node", health.GroupNode, 0), ready: make(chan struct{})}
}

// Health is the aggregator components register on.
func (p *Process) Health() *health.Aggregator { return p.cfg.Health }

// Listening is closed once the health server is bound (or Run failed
// before); HealthListenAddr is then valid.
func (p *Process) Listening() <-chan struct{} { return p.ready }

// HealthListenAddr is the bound health address (nil without a server).
func (p *Process) HealthListenAddr() net.Addr { return p.addr }

// Run serves health and runs every component until ctx ends (nil) or one
// component fails: then the others are cancelled and the failure returned,
// so the supervisor restarts calico-node as a whole (a half-running node
// is worse than a restart).
func (p *Process) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(p.cfg.Components)+1)
	if p.cfg.HealthAddr != "" {
		srv, err := health.Listen(p.cfg.HealthAddr, p.cfg.Health)
		if err != nil {
			close(p.ready)
			return err
		}
		p.addr = srv.Addr()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx); err != nil {
				errc <- fmt.Errorf("health server: %w", err)
			}
		}()
		p.cfg.Logger.Info("health endpoint listening", "address", p.addr.String())
	}
	close(p.ready)
	for _, c := range p.cfg.Components {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.cfg.Logger.Info("component starting", "component", c.Name())
			err := c.Run(ctx)
			if ctx.Err() == nil {
				if err == nil {
					err = errors.New("stopped unexpectedly")
				}
				errc <- fmt.Errorf("component %s: %w", c.Name(), err)
			}
		}()
	}
	p.self.Report(true, true, "")
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		p.self.Report(false, false, err.Error())
		p.cfg.Logger.Error("calico-node stopping: a component failed", "err", err)
	}
	cancel()
	wg.Wait()
	return err
}
