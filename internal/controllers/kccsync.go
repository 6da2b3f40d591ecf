package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/client"
	"github.com/tricolor-net/tricolor/internal/datastore"
)

// kccBackoff spaces retries after a datastore error (Calico's one second).
const kccBackoff = time.Second

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
// keeps running and the status keeps describing it. Only the leader runs
// the loop, so two instances with different environments (a rolling
// update) never fight over the status.
type kccSync struct {
	c      *client.Client
	static Config
	getenv func(string) string
	log    *slog.Logger
	// good is the configuration of the last valid resource (at first the
	// defaults under the environment).
	good Config
}

func newKCCSync(static Config, be datastore.Backend, log *slog.Logger) *kccSync {
	return &kccSync{c: client.New(be), static: static, getenv: static.Environment, log: log.With("resource", "KubeControllersConfiguration(default)")}
}

// first resolves the configuration to start with, retrying until the
// resource can be read or created, or ctx ends. Only a bad environment
// variable is an error.
func (s *kccSync) first(ctx context.Context) (Config, error) {
	good, _, err := resolve(s.static, nil, s.getenv)
	if err != nil {
		return Config{}, err
	}
	s.good = good
	for {
		kcc, err := s.getOrCreate(ctx)
		if err == nil {
			cfg, _, _ := s.configure(kcc)
			return cfg, nil
		}
		s.log.Warn("cannot read the kube-controllers configuration; retrying", "err", err)
		select {
		case <-ctx.Done():
			return Config{}, ctx.Err()
		case <-time.After(kccBackoff):
		}
	}
}

// run sends the configuration on out, at once and after every change of
// the resource, and keeps its status written, until ctx ends.
func (s *kccSync) run(ctx context.Context, out chan<- Config) {
	for ctx.Err() == nil {
		if err := s.follow(ctx, out); err != nil && ctx.Err() == nil {
			s.log.Warn("following the kube-controllers configuration failed; starting over", "err", err, "retryIn", kccBackoff)
			select {
			case <-ctx.Done():
			case <-time.After(kccBackoff):
			}
		}
	}
}

// follow gets (or creates) the resource, publishes it and watches it. It
// returns nil when the resource is deleted (run then recreates it) or ctx
// ends, and an error when the datastore fails.
func (s *kccSync) follow(ctx context.Context, out chan<- Config) error {
	kcc, err := s.getOrCreate(ctx)
	if err != nil {
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
	return nil
}

// getOrCreate reads "default", creating it with Calico's defaults for this
// datastore (the etcd-only controllers enabled only with etcd) when it is
// missing. A concurrent creation makes it fail; the caller retries.
func (s *kccSync) getOrCreate(ctx context.Context) (*v3.KubeControllersConfiguration, error) {
	res, err := s.c.Get(ctx, v3.KindKubeControllersConfiguration, "", v3.KubeControllersConfigurationName)
	if err == nil {
		return res.(*v3.KubeControllersConfiguration), nil
	}
	if !client.IsNotFound(err) {
		return nil, err
	}
	kcc := v3.NewKubeControllersConfiguration()
	kcc.Name = v3.KubeControllersConfigurationName
	kcc.Spec = v3.DefaultKubeControllersConfigurationSpec(!s.static.Kubernetes)
	if res, err = s.c.Create(ctx, kcc); err != nil {
		return nil, fmt.Errorf("create the default kube-controllers configuration: %w", err)
	}
	s.log.Info("created the kube-controllers configuration with Calico's defaults", "etcdControllers", !s.static.Kubernetes)
	return res.(*v3.KubeControllersConfiguration), nil
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
// conflicting writer has a newer version on its way through the watch.
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
			return "", fmt.Errorf("write the kube-controllers configuration status: %w", err)
		default:
			rev = res.GetResourceVersion()
		}
	}
	select {
	case out <- cfg:
		return rev, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// sameStatus compares two statuses as stored (JSON), so an empty and a
// missing map, or two pointers to equal durations, are the same.
func sameStatus(a, b v3.KubeControllersConfigurationStatus) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
