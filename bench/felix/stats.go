package main

import (
	"slices"
	"time"

	"github.com/tricolor-net/tricolor/bench/internal/stats"
)

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
	return slices.Min(rs), stats.Median(rs), slices.Max(rs)
}
