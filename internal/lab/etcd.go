package lab

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tricolor-net/tricolor/internal/relay"

	"github.com/tricolor-net/tricolor/internal/datastore/etcd"
)

// ServeEtcdConfig configures `calico-lab serve-etcd`.
type ServeEtcdConfig struct {
	// DataDir holds the datastore.
	DataDir string
	// Listen is the extra address the datastore is served on for the nodes
	// (198.18.0.1:2379); the server itself listens on loopback.
	Listen string
	// LoopbackPort is the embedded server's port on 127.0.0.1.
	LoopbackPort int
}

// ServeEtcd runs the lab's embedded etcd until ctx ends. It is called by
// `calico-lab serve-etcd` running inside the fabric namespace: the embedded
// server accepts only loopback URLs, so it listens on the fabric's
// 127.0.0.1 and a TCP relay serves it on the fabric address the nodes use.
func ServeEtcd(ctx context.Context, cfg ServeEtcdConfig) error {
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{
		DataDir:   cfg.DataDir,
		ClientURL: fmt.Sprintf("http://127.0.0.1:%d", cfg.LoopbackPort),
		Name:      "lab",
		// The lab's datastore is thrown away by `down`; durability buys
		// nothing and fsync slows every pod.
		UnsafeNoFsync: true,
	})
	if err != nil {
		return err
	}
	defer e.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve etcd on %s: %w (is the fabric's loopback address missing?)", cfg.Listen, err)
	}
	defer ln.Close()
	target := fmt.Sprintf("127.0.0.1:%d", cfg.LoopbackPort)
	stop := relay.Serve(ln, relay.DialTCP(target))
	defer stop()
	slog.Info("lab etcd serving", "loopback", target, "fabric", cfg.Listen, "data", cfg.DataDir)
	select {
	case <-ctx.Done():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("embedded etcd failed: %w", err)
	}
}

// externalEtcdArgs are Debian etcd's flags for serving the lab from the
// fabric namespace: clients on loopback and the fabric address, peers on
// loopback only.
func externalEtcdArgs(dataDir string) []string {
	client := fmt.Sprintf("http://127.0.0.1:%d,http://%s:%d", EtcdPort, EtcdAddr, EtcdPort)
	peer := "http://127.0.0.1:2380"
	return []string{
		"--name", "lab", "--data-dir", dataDir,
		"--listen-client-urls", client,
		"--advertise-client-urls", fmt.Sprintf("http://%s:%d", EtcdAddr, EtcdPort),
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "lab=" + peer, "--initial-cluster-state", "new",
		"--logger", "zap", "--log-level", "warn",
	}
}

// waitEtcdHealthy polls the datastore's /health from inside the fabric
// namespace until it answers healthy, the process dies or ctx ends.
func waitEtcdHealthy(ctx context.Context, fabric string, proc Process) error {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return dialIn(ctx, fabric, addr)
	}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Second}
	url := fmt.Sprintf("http://%s:%d/health", EtcdAddr, EtcdPort)
	var last error
	for {
		resp, err := hc.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"true"`) {
				return nil
			}
			err = fmt.Errorf("health %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		last = err
		if !proc.alive() {
			return fmt.Errorf("datastore (%s) exited while starting; log %s:\n%s", proc.Role, proc.Log, tail(proc.Log, 2000))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("datastore at %s did not become healthy (last: %v); log %s:\n%s", url, last, proc.Log, tail(proc.Log, 2000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
