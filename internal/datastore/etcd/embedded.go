package etcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// EndpointFileName is the file inside the data directory where a running
// embedded server writes its client URL, so other processes on the host
// (calicoctl) can find it. It is removed on Close.
const EndpointFileName = "endpoint"

// embeddedStartTimeout bounds how long the server may take to become ready.
const embeddedStartTimeout = 60 * time.Second

// EmbeddedConfig configures an etcd server run inside this process.
type EmbeddedConfig struct {
	// DataDir holds etcd's data and the endpoint file; required. It survives
	// Close, and a later start on it sees the same data.
	DataDir string
	// ClientURL is where clients connect, e.g. "http://127.0.0.1:2379".
	// Empty, or a port of 0, picks a free loopback port. Only loopback
	// http URLs are accepted: the embedded server is for this host.
	ClientURL string
	// Name is the etcd member name; "default" when empty.
	Name string
	// AutoCompactionRetention keeps this much history ("1h" by default);
	// older revisions are compacted as by `etcd --auto-compaction-retention`.
	AutoCompactionRetention string
	// UnsafeNoFsync skips fsync. A crash can lose acknowledged writes, so it
	// is for tests and benchmarks only; never set it in production.
	UnsafeNoFsync bool
}

// Embedded is a running in-process etcd server.
type Embedded struct {
	etcd     *embed.Etcd
	endpoint string
	dataDir  string
	closing  *atomic.Bool
}

// StartEmbedded starts an etcd server in this process, waits until it
// serves clients and records its endpoint in <DataDir>/endpoint.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded etcd: DataDir is empty; set a directory for the datastore (e.g. /var/lib/calico/etcd)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd: create data dir: %w", err)
	}
	clientURL, err := resolveClientURL(cfg.ClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := resolveClientURL("http://127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ec := embed.NewConfig()
	ec.Name = cfg.Name
	if ec.Name == "" {
		ec.Name = "default"
	}
	ec.Dir = filepath.Join(cfg.DataDir, "data")
	ec.ListenClientUrls = []url.URL{*clientURL}
	ec.AdvertiseClientUrls = []url.URL{*clientURL}
	ec.ListenPeerUrls = []url.URL{*peerURL}
	ec.AdvertisePeerUrls = []url.URL{*peerURL}
	ec.InitialCluster = ec.Name + "=" + peerURL.String()
	ec.ListenMetricsUrls = nil
	ec.Logger = "zap"
	ec.LogLevel = "error"
	lg, closing := newServerLogger()
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = cfg.AutoCompactionRetention
	if ec.AutoCompactionRetention == "" {
		ec.AutoCompactionRetention = "1h"
	}
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: start on %s with data in %s: %w", clientURL, cfg.DataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: server failed while starting: %w", err)
	case <-time.After(embeddedStartTimeout):
		e.Close()
		return nil, fmt.Errorf("embedded etcd: not ready after %s (data in %s)", embeddedStartTimeout, cfg.DataDir)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: start interrupted: %w", ctx.Err())
	}
	emb := &Embedded{etcd: e, endpoint: clientURL.String(), dataDir: cfg.DataDir, closing: closing}
	if err := os.WriteFile(emb.endpointFile(), []byte(emb.endpoint+"\n"), 0o644); err != nil {
		e.Close()
		return nil, fmt.Errorf("embedded etcd: write endpoint file: %w", err)
	}
	return emb, nil
}

// Endpoints returns the client URLs to put in Config.Endpoints.
func (e *Embedded) Endpoints() []string { return []string{e.endpoint} }

// Err reports a fatal server error after start (nil channel value means none).
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close removes the endpoint file and stops the server; data stays on disk.
// With client watch streams open it takes up to etcd's request timeout
// (about 7s): etcd lets in-flight RPCs finish before cutting streams.
func (e *Embedded) Close() {
	_ = os.Remove(e.endpointFile())
	e.closing.Store(true)
	e.etcd.Close()
}

func (e *Embedded) endpointFile() string { return filepath.Join(e.dataDir, EndpointFileName) }

// ReadEndpointFile returns the client URL a running embedded server wrote in
// dataDir, for tools that want to reach it (calicoctl without
// ETCD_ENDPOINTS). A missing file means no embedded server is running there.
func ReadEndpointFile(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, EndpointFileName))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no embedded etcd is running with data in %s (no %s file); start calico-node or set ETCD_ENDPOINTS", dataDir, EndpointFileName)
		}
		return "", err
	}
	ep := strings.TrimSpace(string(b))
	if ep == "" {
		return "", fmt.Errorf("endpoint file in %s is empty", dataDir)
	}
	return ep, nil
}

// resolveClientURL parses a loopback http URL and replaces an empty or zero
// port with a free one.
func resolveClientURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = "http://127.0.0.1:0"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: client URL %q: %w", raw, err)
	}
	host, port := u.Hostname(), u.Port()
	if u.Scheme != "http" {
		return nil, fmt.Errorf("embedded etcd: client URL %q must use http:// (the embedded server listens on loopback only)", raw)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("embedded etcd: client URL %q is not a loopback address; use 127.0.0.1, or run an external etcd cluster", raw)
	}
	if port == "" || port == "0" {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("embedded etcd: find a free port on %s: %w", host, err)
		}
		port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}
