package cni

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultStateDir is where calico-node leaves the node name and MTU for the
// CNI plugin (Calico's /var/lib/calico).
const DefaultStateDir = "/var/lib/calico"

// EnvStateDir overrides DefaultStateDir (tests, non-standard installs).
const EnvStateDir = "TRICOLOR_CALICO_STATE_DIR"

// defaultMTU is the veth MTU when neither the config nor calico-node says.
const defaultMTU = 1500

// ResolveNodename returns the node this plugin runs on, in Calico's order:
// nodename, then the deprecated hostname, then the nodename file written by
// calico-node (nodename_file, default <stateDir>/nodename), then the
// host name. A configured nodename_file that is missing is an error unless
// nodename_file_optional is set, as in Calico.
func (c *NetConf) ResolveNodename(stateDir string) (string, error) {
	if c.Nodename != "" {
		return c.Nodename, nil
	}
	if c.Kubernetes.NodeName != "" {
		return c.Kubernetes.NodeName, nil
	}
	if c.Hostname != "" {
		return c.Hostname, nil
	}
	file := c.NodenameFile
	if file == "" {
		file = filepath.Join(stateDir, "nodename")
	}
	b, err := os.ReadFile(file)
	switch {
	case err == nil:
		if n := strings.TrimSpace(string(b)); n != "" {
			return n, nil
		}
	case c.NodenameFile != "" && !c.NodenameFileOptional:
		return "", fmt.Errorf("read nodename_file %s: %w; start calico-node (it writes the file), set \"nodename\", or set \"nodename_file_optional\": true", file, err)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read node name from %s: %w", file, err)
	}
	h, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("no node name: set \"nodename\" in the network config (hostname lookup failed: %w)", err)
	}
	return strings.ToLower(strings.TrimSpace(h)), nil
}

// EffectiveMTU is the veth MTU: the config's mtu, else the one calico-node
// detected and wrote to <stateDir>/mtu, else 1500.
func (c *NetConf) EffectiveMTU(stateDir string) (int, error) {
	if c.MTU > 0 {
		return c.MTU, nil
	}
	file := filepath.Join(stateDir, "mtu")
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultMTU, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read MTU from %s: %w", file, err)
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || mtu < 68 || mtu > 65535 {
		return 0, fmt.Errorf("%s holds %q, not an MTU between 68 and 65535; fix or remove the file, or set \"mtu\" in the network config", file, strings.TrimSpace(string(b)))
	}
	return mtu, nil
}

// stateDir returns the calico state directory from the environment.
func stateDir(getenv func(string) string) string {
	if d := getenv(EnvStateDir); d != "" {
		return d
	}
	return DefaultStateDir
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o644) }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
