package memory_test

import (
	"testing"

	"github.com/tricolor-net/tricolor/internal/datastore/conformance"
	"github.com/tricolor-net/tricolor/internal/datastore/memory"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Harness {
		b := memory.New()
		return conformance.Harness{
			Backend: b,
			Compact: func(t *testing.T, rev string) {
				if err := b.Compact(rev); err != nil {
					t.Fatalf("compact at %s: %v", rev, err)
				}
			},
		}
	})
}
