package k8s

import (
	"slices"
	"testing"
)

func TestSplitEscaped_UndoesWorkloadEndpointNameEscaping(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"node--1-k8s-web--0-eth0", []string{"node-1", "k8s", "web-0", "eth0"}},
		{"n-k8s-p-eth0", []string{"n", "k8s", "p", "eth0"}},
		{"a----b-k8s-c-eth0", []string{"a--b", "k8s", "c", "eth0"}},
		{"plain", []string{"plain"}},
	}
	for _, tt := range tests {
		if got := splitEscaped(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("splitEscaped(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}
