package installcni

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Result says what Install wrote, for the log.
type Result struct {
	// Binaries are the paths written (or kept, when UpdateBinaries is off).
	Binaries []string
	// Kubeconfig is the kubeconfig's path inside the container ("" when
	// none was written).
	Kubeconfig string
	// Account is whose token the kubeconfig carries.
	Account string
	// Conflist is the conflist's path inside the container.
	Conflist string
	// Warnings are problems that did not stop the install (the CNI
	// service account missing), each with its fix.
	Warnings []string
}

// Install copies the binaries, writes the kubeconfig and then the
// conflist, in that order: kubelet treats the node's network as ready once
// the conflist exists, so it is written last and atomically. The template
// is checked first, so bad input changes nothing on the host.
func Install(ctx context.Context, cfg Config) (*Result, error) {
	return install(ctx, cfg, nil)
}

// install is Install with the token source given (nil: NewTokenSource),
// so that unit tests need no API server.
func install(ctx context.Context, cfg Config, tokens tokenGetter) (*Result, error) {
	if strings.TrimSpace(cfg.NetworkConfig) == "" {
		return nil, errors.New("CNI_NETWORK_CONFIG is not set: set it (or CNI_NETWORK_CONFIG_FILE) to the conflist template, " +
			"as the calico-config ConfigMap's cni_network_config key in manifests/tricolor.yaml does")
	}
	if err := validName(cfg.ConfName); err != nil {
		return nil, err
	}
	if _, err := Render(cfg, ""); err != nil {
		return nil, err
	}
	if cfg.ServiceHost != "" && tokens == nil {
		src, err := NewTokenSource(cfg)
		if err != nil {
			return nil, err
		}
		tokens = src
	}
	res := &Result{}
	bins, err := installBinaries(cfg)
	if err != nil {
		return nil, err
	}
	res.Binaries = bins

	if err := os.MkdirAll(cfg.HostNetDir, 0o755); err != nil {
		return nil, fmt.Errorf("CNI config directory: %w; mount the host's %s at %s", err, cfg.CNINetDir, cfg.HostNetDir)
	}
	var token string
	if cfg.ServiceHost != "" {
		tok, err := tokens.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig for the CNI plugin: %w", err)
		}
		if tok.Fallback != "" {
			res.Warnings = append(res.Warnings, tok.Fallback)
		}
		if res.Kubeconfig, err = writeKubeconfig(cfg, tok.Value); err != nil {
			return nil, err
		}
		res.Account, token = tok.Account, tok.Value
	}
	conf, err := Render(cfg, token)
	if err != nil {
		return nil, err
	}
	res.Conflist = filepath.Join(cfg.HostNetDir, cfg.ConfName)
	if err := writeAtomic(res.Conflist, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write CNI config: %w", err)
	}
	return res, nil
}

// validName refuses CNI_CONF_NAME values that are not a plain file name
// libcni loads.
func validName(name string) error {
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("CNI_CONF_NAME %q is not a file name; use a name like %s", name, DefaultConfName)
	}
	switch filepath.Ext(name) {
	case ".conf", ".conflist", ".json":
		return nil
	}
	return fmt.Errorf("CNI_CONF_NAME %q: kubelet only loads .conf, .conflist and .json files; use a name like %s", name, DefaultConfName)
}

// installBinaries copies every file of SourceBinDir (symlinks followed)
// into each existing host bin directory.
func installBinaries(cfg Config) ([]string, error) {
	entries, err := os.ReadDir(cfg.SourceBinDir)
	if err != nil {
		return nil, fmt.Errorf("CNI binaries: %w; the image keeps them in %s", err, cfg.SourceBinDir)
	}
	var names []string
	for _, e := range entries {
		st, err := os.Stat(filepath.Join(cfg.SourceBinDir, e.Name()))
		if err != nil || !st.Mode().IsRegular() || slices.Contains(cfg.SkipBinaries, e.Name()) {
			continue
		}
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("CNI binaries: %s holds no files to install", cfg.SourceBinDir)
	}
	var written []string
	for i, dir := range cfg.HostBinDirs {
		if _, err := os.Stat(dir); err != nil {
			if i == 0 {
				return nil, fmt.Errorf("CNI bin directory: %w; mount the host's /opt/cni/bin at %s", err, dir)
			}
			continue // optional secondary directory not mounted
		}
		for _, n := range names {
			dst := filepath.Join(dir, n)
			if !cfg.UpdateBinaries {
				if _, err := os.Stat(dst); err == nil {
					written = append(written, dst)
					continue
				}
			}
			if err := copyFile(filepath.Join(cfg.SourceBinDir, n), dst); err != nil {
				return nil, fmt.Errorf("install %s: %w", n, err)
			}
			written = append(written, dst)
		}
	}
	return written, nil
}

// copyFile copies src to dst through a temporary file and a rename, so a
// plugin being executed by the kubelet is never overwritten in place
// (which fails with "text file busy") and never seen half-written.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
