package main

import (
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tricolor-net/tricolor/internal/datastore/k8s/conversion"
)

// conversionResult is the in-memory throughput of one step over n pods
// (the median of the rounds).
type conversionResult struct {
	name string
	rate float64 // pods per second
}

// measureConversion times, over the same n pods serialised as one PodList:
//
//   - baseline: json.Unmarshal of the PodList into typed pods;
//   - PodToWorkloadEndpoint alone on the typed pods;
//   - the view's whole path, as k8s.View serves a list: JSON → unstructured
//     (what the dynamic client returns) → typed Pod → WorkloadEndpoint →
//     the WorkloadEndpoint's JSON (what the syncer receives).
func measureConversion(n, rounds int) ([]conversionResult, error) {
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}}
	for i := 0; i < n; i++ {
		list.Items = append(list.Items, *makePod(i, true))
	}
	raw, err := json.Marshal(&list)
	if err != nil {
		return nil, err
	}
	var typed corev1.PodList
	steps := []struct {
		name string
		run  func() error
	}{
		{"JSON decode of the PodList (baseline)", func() error {
			typed = corev1.PodList{}
			return json.Unmarshal(raw, &typed)
		}},
		{"PodToWorkloadEndpoint (typed pods)", func() error {
			for i := range typed.Items {
				if _, err := conversion.PodToWorkloadEndpoint(&typed.Items[i]); err != nil {
					return err
				}
			}
			return nil
		}},
		{"view path: JSON → unstructured → Pod → WorkloadEndpoint → JSON", func() error {
			var ul unstructured.UnstructuredList
			if err := ul.UnmarshalJSON(raw); err != nil {
				return err
			}
			for i := range ul.Items {
				var pod corev1.Pod
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(ul.Items[i].Object, &pod); err != nil {
					return err
				}
				wep, err := conversion.PodToWorkloadEndpoint(&pod)
				if err != nil {
					return err
				}
				if _, err := json.Marshal(wep); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	// Rounds interleave the steps, so a change in the machine's load during
	// the run weighs on every step alike; each step's median is reported.
	ds := make([][]time.Duration, len(steps))
	for r := 0; r < rounds; r++ {
		for i, s := range steps {
			start := time.Now()
			if err := s.run(); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			ds[i] = append(ds[i], time.Since(start))
		}
	}
	out := make([]conversionResult, len(steps))
	for i, s := range steps {
		out[i] = conversionResult{name: s.name, rate: float64(n) / percentile(ds[i], 50).Seconds()}
	}
	return out, nil
}
