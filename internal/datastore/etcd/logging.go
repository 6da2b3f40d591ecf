package etcd

import (
	"os"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// closableCore passes etcd's error-level logs to stderr, except while the
// embedded server is shutting down: etcd then reports every listener it
// closes ("setting up serving from embedded etcd failed ... server closed"),
// which is noise, not a fault.
type closableCore struct {
	zapcore.Core
	closing *atomic.Bool
}

// newServerLogger returns the embedded server's logger and the switch that
// silences it during Close.
func newServerLogger() (*zap.Logger, *atomic.Bool) {
	closing := &atomic.Bool{}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	core := zapcore.NewCore(enc, zapcore.Lock(os.Stderr), zapcore.ErrorLevel)
	return zap.New(&closableCore{Core: core, closing: closing}), closing
}

func (c *closableCore) With(fields []zapcore.Field) zapcore.Core {
	return &closableCore{Core: c.Core.With(fields), closing: c.closing}
}

func (c *closableCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.closing.Load() && e.Level < zapcore.PanicLevel {
		return ce
	}
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}
