package logging

import (
	"log/slog"
	"testing"
)

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
	}{
		{"", slog.LevelInfo},
		{"info", slog.LevelInfo},
		{"debug", slog.LevelDebug},
		{"DEBUG", slog.LevelDebug},
		{"warning", slog.LevelWarn},
		{"Warn", slog.LevelWarn},
		{"error", slog.LevelError},
		{"fatal", slog.LevelError},
		{"panic", slog.LevelError},
		{"verbose", slog.LevelInfo},
	} {
		if got := Level(tc.in); got != tc.want {
			t.Errorf("Level(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
