// Package stats holds the summary statistics the benchmark programs under
// bench/ report: the median of a sample and nearest-rank percentiles of
// durations. Inputs are never modified.
package stats

import (
	"math"
	"slices"
	"time"
)

// Median returns the median of xs: the middle value, or the mean of the two
// middle values when len(xs) is even. It returns 0 for an empty sample.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile returns the nearest-rank p-th percentile (p in 0–100) of ds:
// the smallest sample such that at least p% of the samples are no greater.
// p <= 0 gives the minimum, p >= 100 the maximum, and an empty sample 0.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}
