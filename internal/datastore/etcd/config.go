package etcd

import (
	"fmt"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultDialTimeout is used when Config.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// Config says how to reach an etcd cluster. The field meanings match
// calico-node's ETCD_ENDPOINTS, ETCD_KEY_FILE, ETCD_CERT_FILE and
// ETCD_CA_CERT_FILE.
type Config struct {
	// Endpoints are client URLs, e.g. "https://10.0.0.1:2379".
	Endpoints []string
	// KeyFile and CertFile are the client's TLS key pair (both or neither).
	KeyFile, CertFile string
	// CACertFile verifies the servers' certificates.
	CACertFile string
	// DialTimeout bounds the initial connection; DefaultDialTimeout if zero.
	DialTimeout time.Duration
}

// clientConfig turns c into the etcd client's configuration.
func (c Config) clientConfig() (clientv3.Config, error) {
	if len(c.Endpoints) == 0 {
		return clientv3.Config{}, fmt.Errorf("etcd: no endpoints configured; set ETCD_ENDPOINTS (e.g. http://127.0.0.1:2379)")
	}
	if (c.KeyFile == "") != (c.CertFile == "") {
		return clientv3.Config{}, fmt.Errorf("etcd: key file %q and cert file %q must be set together (ETCD_KEY_FILE, ETCD_CERT_FILE)", c.KeyFile, c.CertFile)
	}
	cc := clientv3.Config{
		Endpoints:   c.Endpoints,
		DialTimeout: c.DialTimeout,
		// The client retries through outages; its own warnings about that
		// would drown our logs, so only errors come through.
		Logger:               quietLogger(),
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
	}
	if cc.DialTimeout == 0 {
		cc.DialTimeout = DefaultDialTimeout
	}
	if c.KeyFile != "" || c.CACertFile != "" {
		info := transport.TLSInfo{CertFile: c.CertFile, KeyFile: c.KeyFile, TrustedCAFile: c.CACertFile}
		tlsCfg, err := info.ClientConfig()
		if err != nil {
			return clientv3.Config{}, fmt.Errorf("etcd: load TLS files (cert %q, key %q, CA %q): %w", c.CertFile, c.KeyFile, c.CACertFile, err)
		}
		cc.TLS = tlsCfg
	}
	return cc, nil
}

// quietLogger is a zap logger that only lets errors through to stderr.
func quietLogger() *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(zapcore.ErrorLevel)
	cfg.Sampling = nil
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	lg, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return lg
}
