package cni

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// DefaultLogFile is Calico's CNI log file.
const DefaultLogFile = "/var/log/calico/cni/cni.log"

// logLevels maps Calico's log_level values to slog levels; "none" logs
// nothing but errors are still returned to the runtime.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warning": slog.LevelWarn, "warn": slog.LevelWarn,
	"error": slog.LevelError, "fatal": slog.LevelError, "panic": slog.LevelError, "none": slog.LevelError + 100,
}

// NewLogger returns the plugin's logger: text to stderr (the runtime keeps
// it) and to log_file_path (default /var/log/calico/cni/cni.log) when that
// can be opened, at log_level (default info). The returned closer closes
// the file.
func NewLogger(conf *NetConf, stderr io.Writer, fields ...any) (*slog.Logger, func()) {
	level := slog.LevelInfo
	if l, ok := logLevels[strings.ToLower(conf.LogLevel)]; ok {
		level = l
	}
	var w io.Writer = stderr
	closer := func() {}
	path := conf.LogFilePath
	if path == "" {
		path = DefaultLogFile
	}
	if level <= slog.LevelError {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				w = io.MultiWriter(stderr, f)
				closer = func() { _ = f.Close() }
			}
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With(fields...), closer
}
