package controllers

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// maxRetries bounds how often one key is retried with back-off before it
// is dropped; the periodic resync picks it up again.
const maxRetries = 10

// reconcileFunc brings one key (a Kubernetes "namespace/name" or "name")
// to its desired state, reading everything afresh.
type reconcileFunc func(ctx context.Context, key string) error

// loop is one controller's workqueue and workers.
type loop struct {
	name      string
	queue     workqueue.TypedRateLimitingInterface[string]
	reconcile reconcileFunc
	metrics   *metrics
	log       *slog.Logger
}

func newLoop(name string, r reconcileFunc, m *metrics, log *slog.Logger) *loop {
	return &loop{
		name: name,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
		reconcile: r,
		metrics:   m,
		log:       log.With("controller", name),
	}
}

// enqueue adds the key of a Kubernetes object (tombstones included).
func (l *loop) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		l.log.Warn("cannot key object", "err", err)
		return
	}
	l.queue.Add(key)
}

// handler enqueues on every add, update and delete.
func (l *loop) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    l.enqueue,
		UpdateFunc: func(_, n any) { l.enqueue(n) },
		DeleteFunc: l.enqueue,
	}
}

// run starts workers until ctx ends, then shuts the queue down.
func (l *loop) run(ctx context.Context, workers int) {
	go func() {
		<-ctx.Done()
		l.queue.ShutDown()
	}()
	done := make(chan struct{})
	for range workers {
		go func() {
			for l.next(ctx) {
			}
			done <- struct{}{}
		}()
	}
	for range workers {
		<-done
	}
}

// next processes one key; false once the queue is shut down.
func (l *loop) next(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	start := time.Now()
	err := l.reconcile(ctx, key)
	l.metrics.observe(l.name, err, time.Since(start))
	switch {
	case err == nil:
		l.queue.Forget(key)
	case ctx.Err() != nil:
		// Shutting down: the next leader starts from a full resync.
	case l.queue.NumRequeues(key) < maxRetries:
		l.log.Info("reconcile failed; retrying", "key", key, "err", err)
		l.queue.AddRateLimited(key)
	default:
		l.log.Error("reconcile failed too often; dropping until the next resync", "key", key, "err", err, "retries", maxRetries)
		l.queue.Forget(key)
	}
	return true
}
