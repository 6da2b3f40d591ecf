package controllers

import (
	"context"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// elect takes part in the election on a coordination.k8s.io Lease and
// runs lead while holding it. It returns when ctx ends (the Lease is
// released, so a standby takes over at once) or when leadership is lost
// (renewal failed past RenewDeadline: a standby takes over once the Lease
// expires, LeaseDuration after the last renewal).
func (m *Manager) elect(ctx context.Context) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: m.cfg.LeaseName, Namespace: m.cfg.LeaseNamespace},
		Client:     m.kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: m.cfg.Identity},
	}
	// le.Run returns as soon as leadership ends, while the controllers may
	// still be stopping: wait for them, so nothing writes after elect
	// returns. A callback that starts after that (its goroutine was
	// scheduled late) finds closed set and does nothing.
	var (
		mu      sync.Mutex
		closed  bool
		leading sync.WaitGroup
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            m.cfg.LeaseName,
		LeaseDuration:   m.cfg.LeaseDuration,
		RenewDeadline:   m.cfg.RenewDeadline,
		RetryPeriod:     m.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				mu.Lock()
				if closed {
					mu.Unlock()
					return
				}
				leading.Add(1)
				mu.Unlock()
				defer leading.Done()
				m.lead(ctx)
			},
			OnStoppedLeading: func() { m.log.Info("stopped leading", "identity", m.cfg.Identity) },
			OnNewLeader: func(id string) {
				if id != m.cfg.Identity {
					m.log.Info("standing by; another instance leads", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w (lease durations must satisfy LeaseDuration > RenewDeadline > RetryPeriod)", err)
	}
	le.Run(ctx)
	mu.Lock()
	closed = true
	mu.Unlock()
	leading.Wait()
	return nil
}
