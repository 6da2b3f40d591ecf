package cluster

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Image is a single-binary container image built locally: no registry is
// reachable here, so the harness packs the binary into an OCI image layout
// tarball and imports it into each node's containerd under Name.
type Image struct {
	// Name is the reference pods use, e.g. registry.k8s.io/pause:3.10.
	Name string
	// Binary is the static executable to put at /<base name>.
	Binary string
	// Entrypoint is the command; default [/<base name of Binary>].
	Entrypoint []string
}

// WriteOCITar writes the image as an OCI image layout tarball (oci-layout,
// index.json with the io.containerd.image.name annotation, blobs) that
// `ctr images import` accepts.
func (img Image) WriteOCITar(path string) error {
	bin, err := os.ReadFile(img.Binary)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.Name, err)
	}
	base := filepath.Base(img.Binary)
	files := map[string][]byte{base: bin}
	// A dynamically linked binary (agnhost built with cgo) brings its
	// loader and libraries at the paths it was linked against.
	libs, err := sharedLibs(img.Binary)
	if err != nil {
		return fmt.Errorf("image %s: %w", img.Name, err)
	}
	for _, lib := range libs {
		b, err := os.ReadFile(lib)
		if err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
		files[strings.TrimPrefix(lib, "/")] = b
	}
	layer, err := tarOf(files)
	if err != nil {
		return err
	}
	entry := img.Entrypoint
	if len(entry) == 0 {
		entry = []string{"/" + base}
	}
	layerDigest := digest(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": entry,
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
		"created": time.Unix(0, 0).UTC().Format(time.RFC3339),
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": descriptor("application/vnd.oci.image.config.v1+json", config, nil),
		"layers": []any{descriptor("application/vnd.oci.image.layer.v1.tar", layer, nil)},
	})
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{platformed(descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
			map[string]string{"io.containerd.image.name": img.Name, "org.opencontainers.image.ref.name": img.Name}))},
	})
	layout := map[string][]byte{
		"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json": index,
	}
	for _, blob := range [][]byte{layer, config, manifest} {
		layout["blobs/sha256/"+digest(blob)[len("sha256:"):]] = blob
	}
	out, err := tarOf(layout)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// sharedLibs lists the loader and libraries a dynamically linked binary
// needs (from ldd, symlinks resolved); none for a static binary.
func sharedLibs(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, out)
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				libs = append(libs, f)
			}
		}
	}
	return libs, nil
}

// descriptor is an OCI content descriptor of blob.
func descriptor(mediaType string, blob []byte, annotations map[string]string) map[string]any {
	d := map[string]any{"mediaType": mediaType, "digest": digest(blob), "size": len(blob)}
	if len(annotations) > 0 {
		d["annotations"] = annotations
	}
	return d
}

// platformed adds this machine's platform to a manifest descriptor, so the
// importer unpacks it for the default platform.
func platformed(d map[string]any) map[string]any {
	d["platform"] = map[string]string{"architecture": runtime.GOARCH, "os": "linux"}
	return d
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// tarOf packs files in name order (so the same input gives the same
// digest), each preceded by its parent directories; everything but the
// layout's own JSON files is executable (binaries, the ELF loader).
func tarOf(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, name := range sortedKeys(files) {
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	sort.Strings(dirNames)
	for _, d := range dirNames {
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(files) {
		mode := int64(0o755)
		if name == "oci-layout" || name == "index.json" {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(files[name])), Typeflag: tar.TypeReg,
			ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(files[name]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
