package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// kccBackoff spaces retries after a datastore error (Calico's one
// second), doubling up to kccMaxBackoff while the errors go on.
const (
	kccBackoff    = time.Second
	kccMaxBackoff = 30 * time.Second
)

// kccSync follows the KubeControllersConfiguration "default" as Calico's
// kube-controllers does:
//
//	get "default" ──missing──► create it with Calico's defaults for the datastore
//	   │
//	   ▼
//	resolve: defaults < spec < environment ──► status.runningConfig / environmentVars
//	   │                                          written (CAS) when it differs
//	   ▼
//	send the configuration to the leader loop (which restarts the
//	controllers when it differs) ◄── watch from the revision read:
//	                                  modified → again; deleted → recreate
//
// A resource that fails validation (kubectl bypasses calicoctl's checks)
// is reported in the log and changes nothing: the last good configuration
// keeps running and the status keeps describing it. A resource that is
// missing and cannot be created (RBAC without create) runs the defaults
// under the environment, and a status that cannot be written is logged:
// neither stops the controllers. Only the leader runs the loop, so two
// instances with different environments (a rolling update) never fight
// over the status.
type kccSync struct {
	c      *client.Client
	static Config
	getenv func(string) string
	log    *slog.Logger
	// fallback is the defaults under the environment: the configuration
	// while the resource is missing and cannot be created.
	fallback Config
	// good is the configuration of the last valid resource (at first
	// fallback).
	good Config
}

func newKCCSync(static Config, be datastore.Backend, log *slog.Logger) *kccSync {
	return &kccSync{c: client.New(be), static: static, getenv: static.Environment, log: log.With("resource", "KubeControllersConfiguration(default)")}
}

// first resolves the configuration to start with, retrying until the
// resource can be read or created, or ctx ends. Only a bad environment
// variable is an error.
func (s *kccSync) first(ctx context.Context) (Config, error) {
	fallback, _, err := resolve(s.static, nil, s.getenv)
	if err != nil {
		return Config{}, err
	}
	s.fallback, s.good = fallback, fallback
	for failures := 0; ; failures++ {
		kcc, missing, err := s.getOrCreate(ctx)
		switch {
		case err == nil:
			cfg, _, _ := s.configure(kcc)
			return cfg, nil
		case missing:
			s.log.Warn("the kube-controllers configuration is missing and cannot be created; starting with the defaults under the environment", "err", err)
			return s.fallback, nil
		}
		s.log.Warn("cannot read the kube-controllers configuration; retrying", "err", err)
		if !sleep(ctx, backoff(failures)) {
			return Config{}, ctx.Err()
		}
	}
}

// run sends the configuration on out, at once and after every change of
// the resource, and keeps its status written, until ctx ends.
func (s *kccSync) run(ctx context.Context, out chan<- Config) {
	failures := 0
	for ctx.Err() == nil {
		start := time.Now()
		err := s.follow(ctx, out)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if time.Since(start) > kccMaxBackoff {
			failures = 0 // it had been working: a new outage starts the backoff again
		}
		s.log.Warn("following the kube-controllers configuration failed; starting over", "err", err, "retryIn", backoff(failures))
		sleep(ctx, backoff(failures))
		failures++
	}
}

// backoff is the wait after the given number of consecutive failures.
func backoff(failures int) time.Duration {
	return min(kccBackoff<<min(failures, 5), kccMaxBackoff)
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// follow gets (or creates) the resource, publishes it and watches it. It
// returns nil when the resource is deleted (run then recreates it) or ctx
// ends, and an error when the datastore fails.
func (s *kccSync) follow(ctx context.Context, out chan<- Config) error {
	kcc, missing, err := s.getOrCreate(ctx)
	if err != nil {
		if missing && !s.send(ctx, out, s.fallback) {
			return ctx.Err()
		}
		return err
	}
	rev, err := s.publish(ctx, kcc, out)
	if err != nil {
		return err
	}
	w, err := s.c.Watch(ctx, v3.KindKubeControllersConfiguration, "", rev)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		switch ev.Type {
		case datastore.EventError:
			return fmt.Errorf("watch kubecontrollersconfigurations: %w", ev.Err)
		case datastore.EventDeleted:
			if ev.Previous == nil || ev.Previous.GetName() == v3.KubeControllersConfigurationName {
				s.log.Info("kube-controllers configuration deleted; recreating it with Calico's defaults")
				return nil
			}
		default:
			k, ok := ev.Object.(*v3.KubeControllersConfiguration)
			if !ok || k.Name != v3.KubeControllersConfigurationName {
				continue // Calico accepts no other name; nothing to follow
			}
			if _, err := s.publish(ctx, k, out); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("the watch of kubecontrollersconfigurations ended")
}

// getOrCreate reads "default", creating it with Calico's defaults for this
// datastore (the etcd-only controllers enabled only with etcd) when it is
// missing; missing reports a failed creation. A concurrent creation makes
// it fail too; the caller retries.
func (s *kccSync) getOrCreate(ctx context.Context) (kcc *v3.KubeControllersConfiguration, missing bool, err error) {
	res, err := s.c.Get(ctx, v3.KindKubeControllersConfiguration, "", v3.KubeControllersConfigurationName)
	if err == nil {
		return res.(*v3.KubeControllersConfiguration), false, nil
	}
	if !client.IsNotFound(err) {
		return nil, false, err
	}
	kcc = v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(!s.static.Kubernetes)
	if res, err = s.c.Create(ctx, kcc); err != nil {
		return nil, true, fmt.Errorf("create the default kube-controllers configuration: %w", err)
	}
	s.log.Info("created the kube-controllers configuration with Calico's defaults", "etcdControllers", !s.static.Kubernetes)
	return res.(*v3.KubeControllersConfiguration), false, nil
}

// configure resolves the configuration of kcc. An invalid resource is
// logged and the last good configuration returned, with ok false.
func (s *kccSync) configure(kcc *v3.KubeControllersConfiguration) (Config, v3.KubeControllersConfigurationStatus, bool) {
	if err := kcc.Validate(); err != nil {
		s.log.Error("invalid kube-controllers configuration ignored; the running configuration is kept until it is fixed", "err", err)
		return s.good, v3.KubeControllersConfigurationStatus{}, false
	}
	cfg, st, err := resolve(s.static, &kcc.Spec, s.getenv)
	if err != nil { // the environment, already checked by first
		s.log.Error("environment", "err", err)
		return s.good, v3.KubeControllersConfigurationStatus{}, false
	}
	s.good = cfg
	return cfg, st, true
}

// publish writes the status of kcc when it differs from the stored one,
// then sends its configuration on out. It returns the revision to watch
// from: after its own status write, so that write is not seen again. A
// conflicting writer has a newer version on its way through the watch; a
// refused write (RBAC) is logged and the configuration still applied.
func (s *kccSync) publish(ctx context.Context, kcc *v3.KubeControllersConfiguration, out chan<- Config) (string, error) {
	cfg, st, ok := s.configure(kcc)
	rev := kcc.ResourceVersion
	if ok && !sameStatus(kcc.Status, st) {
		next := kcc.DeepCopy()
		next.Status = st
		res, err := s.c.Update(ctx, next)
		switch {
		case client.IsConflict(err):
		case err != nil:
			s.log.Warn("cannot write the kube-controllers configuration status; the configuration is applied all the same", "err", err)
		default:
			rev = res.GetResourceVersion()
		}
	}
	if !s.send(ctx, out, cfg) {
		return "", ctx.Err()
	}
	return rev, nil
}

// send hands cfg to the leader loop; false if ctx ended first.
func (s *kccSync) send(ctx context.Context, out chan<- Config, cfg Config) bool {
	select {
	case out <- cfg:
		return true
	case <-ctx.Done():
		return false
	}
}

// sameStatus compares two statuses as stored (JSON), so an empty and a
// missing map, or two pointers to equal durations, are the same.
func sameStatus(a, b v3.KubeControllersConfigurationStatus) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
