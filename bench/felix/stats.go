package main

import (
	"slices"
	"sort"
	"time"
)

// median of xs (0 when empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile p (0–100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func msec(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pairedRatios returns the min, median and max of loaded[i]/base[i]
// (samples taken in the same round).
func pairedRatios(base, loaded []float64) (lo, mid, hi float64) {
	var rs []float64
	for i := range min(len(base), len(loaded)) {
		if base[i] > 0 {
			rs = append(rs, loaded[i]/base[i])
		}
	}
	if len(rs) == 0 {
		return 0, 0, 0
	}
	return slices.Min(rs), median(rs), slices.Max(rs)
}
