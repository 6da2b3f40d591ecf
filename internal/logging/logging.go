// Package logging sets up the process-wide slog logger of Tricolor's
// binaries from Calico's log-level settings (LOG_LEVEL,
// CALICO_STARTUP_LOGLEVEL and the like).
package logging

import (
	"log/slog"
	"os"
	"strings"
)

// Level maps a Calico log level name (case-insensitive) to a slog level:
// "debug" → Debug, "warning"/"warn" → Warn, "error"/"fatal"/"panic" → Error,
// anything else, including "" and "info", → Info.
func Level(name string) slog.Level {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug
	case "warning", "warn":
		return slog.LevelWarn
	case "error", "fatal", "panic":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// SetDefault makes slog's default logger a text logger on stderr at the
// level named by name (see Level).
func SetDefault(name string) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: Level(name)})))
}
