package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	v3 "github.com/tricolor-net/tricolor/api/v3"
	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/datastore/k8s"
)

// apiListResult is the time to list every pod from the API server, raw and
// as WorkloadEndpoints through the kubernetes datastore (median of rounds).
type apiListResult struct {
	pods          int
	create        time.Duration
	raw, viaView  time.Duration
	viewItemCount int
}

// createPods creates n pods (and their namespaces) with writers goroutines.
func createPods(ctx context.Context, cs kubernetes.Interface, n, writers int) (time.Duration, error) {
	for i := 0; i < benchNamespaces; i++ {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceName(i)}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				p := makePod(i, false)
				if _, err := cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("create pod %s/%s: %w", p.Namespace, p.Name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// measureAPIList lists the pods raw (dynamic client, pages of 500, as the
// view lists them) and as WorkloadEndpoints through k8s.KDD.
func measureAPIList(ctx context.Context, dyn dynamic.Interface, kdd *k8s.KDD, n, rounds int) (apiListResult, error) {
	r := apiListResult{pods: n}
	var raw, view []time.Duration
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	for i := 0; i < rounds; i++ {
		start := time.Now()
		count := 0
		opts := metav1.ListOptions{Limit: 500}
		for {
			l, err := dyn.Resource(pods).List(ctx, opts)
			if err != nil {
				return r, err
			}
			count += len(l.Items)
			if l.GetContinue() == "" {
				break
			}
			opts.Continue = l.GetContinue()
		}
		raw = append(raw, time.Since(start))
		if count < n {
			return r, fmt.Errorf("raw list returned %d pods; want at least %d", count, n)
		}
		start = time.Now()
		l, err := kdd.List(ctx, datastore.ListOptions{Kind: v3.KindWorkloadEndpoint})
		if err != nil {
			return r, err
		}
		view = append(view, time.Since(start))
		r.viewItemCount = len(l.Items)
	}
	r.raw, r.viaView = percentile(raw, 50), percentile(view, 50)
	if r.viewItemCount < n {
		return r, fmt.Errorf("the view listed %d WorkloadEndpoints; want at least %d", r.viewItemCount, n)
	}
	return r, nil
}
